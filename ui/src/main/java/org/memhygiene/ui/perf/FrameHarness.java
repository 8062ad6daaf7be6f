package org.memhygiene.ui.perf;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javafx.animation.AnimationTimer;
import javafx.application.Platform;
import javafx.scene.Scene;
import javafx.scene.control.Label;
import javafx.stage.Stage;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.ui.BuiltinController;
import org.memhygiene.ui.Dashboard;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.api.HostView;
import org.memhygiene.ui.api.KsmView;
import org.memhygiene.ui.api.VmView;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.Reclaimed;
import org.memhygiene.ui.model.SourceBreakdown;
import org.memhygiene.ui.views.DashboardWindow;

/**
 * The dashboard's frame-time benchmark (bench/dashboard-perf.sh; docs/PERFORMANCE.md, "Dashboard").
 * A real controller over a 64-VM simulated host streams samples every second into a dashboard whose
 * model already holds 24 h at 1 s for the host and every VM; an AnimationTimer keeps JavaFX pulsing
 * and records, per frame, the interval since the previous pulse and the FX thread's work in it (the
 * pulse's animation, CSS and layout phases plus the samples applied since the frame before). The
 * reference is the same measurement on an empty stage in the same JVM.
 *
 * <p>Arguments: SCENARIO.yaml SECONDS_PER_VIEW PREFILL_HOURS
 */
public final class FrameHarness {
    private static final Logger CONTROLLER_LOG = Logger.getLogger("org.memhygiene.controller");
    private static final Logger JAVAFX_LOG = Logger.getLogger("javafx");

    private FrameHarness() {}

    /** Frame figures of one measurement, in milliseconds. */
    record Frames(
            String what,
            int frames,
            double medianIntervalMillis,
            double medianWorkMillis,
            double p99WorkMillis,
            double maxWorkMillis) {
        String line() {
            return String.format(
                    Locale.ROOT,
                    "%-28s frames %5d  interval median %6.2f ms  FX work median %6.3f ms"
                            + "  p99 %6.3f ms  max %7.3f ms",
                    what,
                    frames,
                    medianIntervalMillis,
                    medianWorkMillis,
                    p99WorkMillis,
                    maxWorkMillis);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: FrameHarness SCENARIO.yaml SECONDS_PER_VIEW PREFILL_HOURS");
            System.exit(2);
        }
        Path scenario = Path.of(args[0]);
        int seconds = Integer.parseInt(args[1]);
        int prefillHours = Integer.parseInt(args[2]);
        CONTROLLER_LOG.setLevel(Level.WARNING);
        JAVAFX_LOG.setLevel(Level.SEVERE);
        CompletableFuture<Void> started = new CompletableFuture<>();
        Platform.startup(() -> started.complete(null));
        started.get();
        Platform.setImplicitExit(false); // the reference stage closes before the dashboard's opens

        // Reference: an empty stage, pulsing.
        Stage empty = fx(() -> {
            Stage s = new Stage();
            s.setScene(new Scene(new Label("reference"), 1280, 800));
            s.show();
            return s;
        });
        Meter reference = new Meter();
        List<Frames> results = new ArrayList<>();
        results.add(reference.measure("empty stage (reference)", seconds));
        fx(() -> {
            empty.hide();
            return null;
        });

        SimulatedHost host = SimulatedHost.load(scenario, Clock.systemUTC(), 1);
        try (BuiltinController controller = BuiltinController.start(host, Duration.ofSeconds(1), true)) {
            HostSnapshot first = controller.daemon().loop().latest().orElseThrow();
            DashboardModel model = new DashboardModel();
            long t0 = System.nanoTime();
            int rows = fx(() -> prefill(model, first, prefillHours));
            System.out.printf(
                    Locale.ROOT,
                    "prefilled %d samples x (host + %d VMs) in %.1f s%n",
                    rows,
                    first.vms().size(),
                    (System.nanoTime() - t0) / 1e9);
            ControllerClient client = new ControllerClient(controller.url(), Optional.empty());
            Meter meter = new Meter();
            DashboardWindow window = fx(() -> {
                startUpdates(model);
                DashboardWindow w = new DashboardWindow(model, client, "benchmark", DashboardWindow.Theme.LIGHT);
                Stage stage = new Stage();
                stage.setScene(w.scene(1280, 800));
                stage.show();
                endUpdates(model);
                return w;
            });
            try (Dashboard dashboard = new Dashboard(model, client, exposure(controller))) {
                dashboard.start();
                String[] names = {"host overview", "trade-off", "VMs table", "findings", "controls", "VM detail"};
                for (int view : new int[] {0, 1, 2, 5}) {
                    fx(() -> {
                        window.select(view);
                        if (view == 5) {
                            window.detail().show(first.vms().get(0).domain().name());
                        }
                        return null;
                    });
                    Thread.sleep(1500); // the first layout of a view is not a live-update frame
                    results.add(meter.measure(names[view] + ", 64 VMs, live", seconds));
                }
                long samples = fx(() -> model.revision().get());
                System.out.println("live samples applied: " + (samples - rows));
            }
        }
        results.forEach(r -> System.out.println(r.line()));
        Frames ref = results.get(0);
        for (Frames r : results.subList(1, results.size())) {
            System.out.printf(
                    Locale.ROOT,
                    "%s: frame interval %.2f x the reference's%n",
                    r.what(),
                    r.medianIntervalMillis() / ref.medianIntervalMillis());
        }
        Platform.exit();
        System.exit(0);
    }

    /** 24 h (or {@code hours}) at 1 s of plausible figures for the host and every VM of {@code first}. */
    static int prefill(DashboardModel model, HostSnapshot first, int hours) {
        int n = hours * 3600;
        Random random = new Random(1);
        Instant end = first.sampledAt().minusSeconds(1);
        long page = first.pageSizeBytes();
        long total = first.memory().map(m -> m.memTotalBytes()).orElse(64L << 30);
        double walk = 0.5;
        long scanned = 0;
        long cpu = 0;
        List<VmSnapshot> vms = first.vms();
        for (int i = 0; i < n; i++) {
            walk = Math.min(1, Math.max(0, walk + random.nextGaussian() * 0.01));
            scanned += 50_000;
            cpu += 70;
            Instant at = end.minusSeconds(n - i);
            HostView host = new HostView(
                    at,
                    "prefill",
                    page,
                    Optional.of(new KsmView(
                            OptionalLong.of((long) (walk * 1e6)),
                            OptionalLong.of((long) (walk * 5e5)),
                            OptionalLong.of(scanned),
                            OptionalLong.of(i / 60),
                            OptionalLong.of(1),
                            OptionalLong.of(1000),
                            OptionalLong.of(20),
                            OptionalLong.of(1))),
                    OptionalLong.of(total),
                    OptionalLong.of((long) (total * (0.3 + 0.2 * walk))),
                    OptionalLong.of((long) (total * (0.35 + 0.2 * walk))),
                    OptionalLong.of(cpu));
            List<VmView> views = new ArrayList<>(vms.size());
            Map<String, Reclaimed> reclaimed = new HashMap<>();
            long sharing = 0;
            long zero = 0;
            for (VmSnapshot vm : vms) {
                long merged = (long) (walk * 20_000);
                long zeroPages = (long) (walk * 10_000);
                views.add(new VmView(
                        vm.domain().name(),
                        vm.domain().uuid(),
                        "RUNNING",
                        vm.domain().currentMemoryBytes(),
                        OptionalLong.of((merged + zeroPages) * page),
                        OptionalLong.of(merged),
                        OptionalLong.of(zeroPages),
                        OptionalLong.empty(),
                        false,
                        "OK",
                        "",
                        OptionalInt.of(80),
                        List.of()));
                reclaimed.put(vm.domain().uuid(), new Reclaimed(merged * page, zeroPages * page, 0));
                sharing += merged * page;
                zero += zeroPages * page;
            }
            model.add(host, views, new SourceBreakdown.Result(new Reclaimed(sharing, zero, 0), reclaimed));
        }
        return n;
    }

    private static SourceBreakdown exposure(BuiltinController controller) {
        return controller.breakdown();
    }

    /**
     * FX-thread time spent applying samples (model.add and the shown view's redraw) since the last frame;
     * FX thread only. Samples arrive in Platform.runLater tasks between pulses, so a frame's work is its
     * pulse's plus this.
     */
    private static long pendingUpdateNanos;

    private static long updateStartNanos;

    /** Times every sample applied to {@code model}; call before the window registers its own listeners, and
     * {@link #endUpdates} after. */
    static void startUpdates(DashboardModel model) {
        model.rows().addListener((javafx.collections.ListChangeListener<Object>) c -> {
            if (updateStartNanos == 0) {
                updateStartNanos = System.nanoTime();
            }
        });
    }

    static void endUpdates(DashboardModel model) {
        model.revision().addListener((o, was, now) -> {
            if (updateStartNanos != 0) {
                pendingUpdateNanos += System.nanoTime() - updateStartNanos;
                updateStartNanos = 0;
            }
        });
    }

    /** Records frame intervals and FX-thread work per frame while an AnimationTimer keeps pulses coming. */
    static final class Meter {
        Frames measure(String what, int seconds) throws Exception {
            List<Double> intervals = new ArrayList<>();
            List<Double> work = new ArrayList<>();
            long[] pulseStart = new long[1];
            CompletableFuture<Void> done = new CompletableFuture<>();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            fx(() -> {
                pendingUpdateNanos = 0;
                Scene scene = javafx.stage.Window.getWindows().stream()
                        .filter(javafx.stage.Window::isShowing)
                        .reduce((a, b) -> b)
                        .orElseThrow()
                        .getScene();
                Runnable postLayout = () -> {
                    if (pulseStart[0] != 0) {
                        work.add((System.nanoTime() - pulseStart[0] + pendingUpdateNanos) / 1e6);
                        pendingUpdateNanos = 0;
                    }
                };
                AnimationTimer timer = new AnimationTimer() {
                    @Override
                    public void handle(long nanos) {
                        long start = System.nanoTime();
                        if (pulseStart[0] != 0) {
                            intervals.add((start - pulseStart[0]) / 1e6);
                        }
                        pulseStart[0] = start;
                        if (start > until) {
                            stop();
                            scene.removePostLayoutPulseListener(postLayout);
                            done.complete(null);
                        }
                    }
                };
                scene.addPostLayoutPulseListener(postLayout);
                timer.start();
                return null;
            });
            done.get(seconds + 30L, TimeUnit.SECONDS);
            return summary(what, intervals, work);
        }
    }

    static Frames summary(String what, List<Double> intervals, List<Double> work) {
        double[] i =
                intervals.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] w = work.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Frames(
                what,
                w.length,
                percentile(i, 50),
                percentile(w, 50),
                percentile(w, 99),
                w.length == 0 ? 0 : w[w.length - 1]);
    }

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
    }

    private static <T> T fx(Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Platform.runLater(() -> {
            try {
                result.complete(task.call());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(10, TimeUnit.MINUTES);
    }
}
