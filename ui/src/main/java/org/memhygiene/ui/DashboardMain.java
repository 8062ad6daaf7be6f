package org.memhygiene.ui;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import javafx.animation.AnimationTimer;
import javafx.application.Platform;
import javafx.geometry.Pos;
import javafx.scene.Scene;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.simulator.ScenarioException;
import org.memhygiene.simulator.scenario.ScenarioParser;
import org.memhygiene.ui.api.ControllerClient;
import org.memhygiene.ui.fleet.FleetView;
import org.memhygiene.ui.fleet.PrometheusFleet;
import org.memhygiene.ui.frontier.FrontierTask;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.SourceBreakdown;
import org.memhygiene.ui.snapshot.SnapshotRenderer;
import org.memhygiene.ui.views.DashboardWindow;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code memhygiene dashboard}: the JavaFX dashboard, a subcommand of the command module's
 * {@code memhygiene}. Not an Application subclass, so JavaFX runs from the class path; once its window is
 * open ({@link #windowOpen()}), the JVM runs until the window closes.
 */
@Command(
        name = "dashboard",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "The desktop dashboard: memory reclaimed against security posture, with KSM and policy controls.",
            "Without options it starts a controller in-process on the built-in simulated host and shows it.",
            "Needs a display (X11/Wayland); without one, use --snapshot or run it under xvfb-run (docs/DASHBOARD.md)."
        })
public final class DashboardMain implements Callable<Integer> {
    /** Simulated seconds per real second for --snapshot: 30 samples span a few simulated minutes. */
    static final int SNAPSHOT_SPEED = 60;
    /** Held so the level set on it survives garbage collection. */
    private static final Logger JAVAFX_LOG = Logger.getLogger("javafx");

    private static final Logger CONTROLLER_LOG = Logger.getLogger("org.memhygiene.controller");

    @Mixin
    CommandOutput output;

    /** Set once the FX thread runs the window: the command has returned, the dashboard has not ended. */
    private volatile boolean windowOpen;

    @Option(
            names = "--connect",
            paramLabel = "URL",
            description = "show a running controller, e.g. http://127.0.0.1:9520")
    URI connect;

    @Option(
            names = "--token",
            paramLabel = "TOKEN",
            description = "the controller's API token, for KSM, policy and scrub changes")
    String token;

    @Option(
            names = "--prometheus",
            paramLabel = "URL",
            description = "show the fleet: every host the Prometheus at URL scrapes, with its reclaimed memory,"
                    + " posture and firing alerts (docs/FLEET.md); double-click a host to open it")
    URI prometheus;

    @Option(
            names = "--prometheus-job",
            paramLabel = "NAME",
            description = "the scrape job of the memhygiene daemons (default: ${DEFAULT-VALUE})",
            defaultValue = "memhygiene")
    String prometheusJob;

    @Option(
            names = "--scenario",
            paramLabel = "FILE",
            description = "simulate this scenario (YAML) instead of the built-in demo")
    Path scenario;

    @Option(
            names = "--snapshot",
            paramLabel = "DIR",
            description = "render every view headless to PNG files in DIR and exit")
    Path snapshot;

    @Option(
            names = "--theme",
            paramLabel = "light|dark",
            description = "colour theme (default: ${DEFAULT-VALUE}); Ctrl+T switches",
            defaultValue = "light")
    String theme;

    @Option(
            names = "--speed",
            paramLabel = "FACTOR",
            description = "simulated seconds per real second on the built-in host"
                    + " (default: the scenario's; with --snapshot: " + SNAPSHOT_SPEED + ")")
    Double speed;

    /** Whether the window runs on after {@link #call()} returned 0: the caller must not exit the JVM. */
    public boolean windowOpen() {
        return windowOpen;
    }

    @Override
    public Integer call() throws Exception {
        DashboardWindow.Theme chosenTheme;
        try {
            chosenTheme = DashboardWindow.Theme.valueOf(theme.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(
                    output.commandLine(), "--theme " + theme + ": expected light or dark");
        }
        if (connect != null && scenario != null) {
            throw new CommandLine.ParameterException(
                    output.commandLine(),
                    "--scenario simulates a host in-process; it cannot be" + " combined with --connect");
        }
        if (prometheus != null && (connect != null || scenario != null || snapshot != null)) {
            throw new CommandLine.ParameterException(
                    output.commandLine(),
                    "--prometheus shows the fleet; it cannot be combined with --connect,"
                            + " --scenario or --snapshot");
        }
        if (token != null && connect == null) {
            throw new CommandLine.ParameterException(
                    output.commandLine(), "--token needs --connect (the built-in controller has none)");
        }
        if (speed != null && !(speed > 0)) {
            throw new CommandLine.ParameterException(
                    output.commandLine(), "--speed " + speed + ": expected a positive factor");
        }
        if (scenario != null) {
            try {
                ScenarioParser.load(scenario); // a bad file is a usage error, before any window
            } catch (ScenarioException e) {
                throw new CommandLine.ParameterException(output.commandLine(), "--scenario " + e.getMessage());
            }
        }
        if (snapshot != null) {
            // A directory that cannot be made is a usage error, before any window.
            try {
                Files.createDirectories(snapshot);
            } catch (IOException e) {
                throw new CommandLine.ParameterException(
                        output.commandLine(), "--snapshot " + snapshot + ": cannot create it: " + Errno.describe(e));
            }
            // Headless rendering: Monocle's headless screen and software rendering, unless told otherwise.
            setIfAbsent("glass.platform", "Monocle");
            setIfAbsent("monocle.platform", "Headless");
            setIfAbsent("prism.order", "sw");
            setIfAbsent("java.awt.headless", "true");
        }
        if (prometheus != null) {
            PrometheusFleet fleet;
            try {
                fleet = new PrometheusFleet(prometheus, prometheusJob);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
            }
            JAVAFX_LOG.setLevel(Level.SEVERE);
            if (!startFx()) {
                return 1;
            }
            Platform.runLater(() -> FleetLaunch.showFleet(fleet, chosenTheme));
            windowOpen = true;
            return 0;
        }
        ControllerClient client;
        if (connect != null) {
            try {
                client = new ControllerClient(connect, Optional.ofNullable(token));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
            }
        } else {
            client = null;
        }
        // JavaFX warns that it runs from the class path ("unsupported configuration"): that is our choice
        // (one plain java -cp launcher, like the CLI's), and it works; keep its other warnings.
        JAVAFX_LOG.setLevel(Level.SEVERE);
        // The in-process controller logs each policy decision; the dashboard shows them, the terminal need not.
        CONTROLLER_LOG.setLevel(Level.WARNING);
        OptionalDouble chosenSpeed = speed != null
                ? OptionalDouble.of(speed)
                : snapshot != null ? OptionalDouble.of(SNAPSHOT_SPEED) : OptionalDouble.empty();
        // The built-in controller starts while JavaFX does: the two are most of the time to the first chart.
        CompletableFuture<BuiltinController> builtin = new CompletableFuture<>();
        if (client == null) {
            Optional<Path> file = Optional.ofNullable(scenario);
            Duration interval = Duration.ofMillis(snapshot != null ? 200 : 1000);
            Thread starter = new Thread(
                    () -> {
                        try {
                            builtin.complete(BuiltinController.start(file, chosenSpeed, interval));
                        } catch (RuntimeException | LinkageError e) { // a bad scenario, a port, a stale build
                            builtin.completeExceptionally(e);
                        }
                    },
                    "memhygiene-ui-controller");
            starter.setDaemon(true);
            starter.start();
        }
        if (!startFx()) {
            return 1;
        }
        Launch launch = new Launch(client, builtin, chosenTheme, Optional.ofNullable(snapshot));
        Platform.runLater(launch::show);
        windowOpen = true;
        return 0;
    }

    /** Starts JavaFX and waits for it; false (said on stderr) without a display. */
    private static boolean startFx() throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        try {
            Platform.startup(started::countDown);
        } catch (UnsupportedOperationException e) {
            System.err.println("memhygiene dashboard: no display: " + e.getMessage()
                    + "\nRun it under xvfb-run, or render the views" + " with --snapshot DIR (docs/DASHBOARD.md).");
            return false;
        }
        started.await();
        return true;
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /**
     * The fleet view and the host views it opens. A class of its own: picocli reflects on DashboardMain's methods,
     * and a lambda taking a JavaFX event there would need JavaFX on the class path of every memhygiene command
     * (the host package has none: PackagesIT).
     */
    private static final class FleetLaunch {
        private FleetLaunch() {}

        /** The fleet window; closing it ends the dashboard, closing a host's window only that host's. */
        private static void showFleet(PrometheusFleet fleet, DashboardWindow.Theme theme) {
            FleetView view = new FleetView(fleet, url -> showHost(url, theme));
            Stage stage = new Stage();
            stage.setTitle("memhygiene fleet: " + fleet.base());
            stage.setScene(new Scene(view.root(), SnapshotRenderer.WIDTH, SnapshotRenderer.HEIGHT / 2.0));
            stage.setOnHidden(e -> {
                view.close();
                Platform.exit();
                System.exit(0);
            });
            stage.show();
            view.start();
        }

        /** One host's controller view, as --connect shows it. */
        private static void showHost(URI url, DashboardWindow.Theme theme) {
            ControllerClient client = new ControllerClient(url, Optional.empty());
            DashboardModel model = new DashboardModel();
            DashboardWindow window = new DashboardWindow(model, client, "controller at " + url, theme);
            Dashboard dashboard = new Dashboard(model, client, SourceBreakdown.FROM_API);
            model.frontierStatus()
                    .set("No policy frontier: it comes from the simulator (built-in or --scenario mode).");
            Stage stage = new Stage();
            stage.setTitle("memhygiene dashboard: " + url);
            stage.setScene(window.scene(SnapshotRenderer.WIDTH, SnapshotRenderer.HEIGHT));
            stage.setOnHidden(e -> dashboard.close());
            stage.show();
            dashboard.start();
        }
    }

    /** Opens the window at once; the controller (built in, or remote) is set up off the FX thread. */
    private static final class Launch {
        private final ControllerClient remote;
        private final CompletableFuture<BuiltinController> builtinStart;
        private final DashboardWindow.Theme theme;
        private final Optional<Path> snapshotDir;
        private Stage stage;

        Launch(
                ControllerClient remote,
                CompletableFuture<BuiltinController> builtinStart,
                DashboardWindow.Theme theme,
                Optional<Path> snapshotDir) {
            this.remote = remote;
            this.builtinStart = builtinStart;
            this.theme = theme;
            this.snapshotDir = snapshotDir;
        }

        /** With -Dmemhygiene.ui.timing: when a start-up phase ended, in ms since the JVM started (the benchmark's breakdown). */
        private static void phase(String name) {
            if (System.getProperty("memhygiene.ui.timing") != null) {
                System.out.println(name + "-millis="
                        + (System.currentTimeMillis()
                                - ManagementFactory.getRuntimeMXBean().getStartTime()));
            }
        }

        void show() {
            phase("fx-started");
            Label what = new Label(
                    remote == null ? "starting the built-in simulated host…" : "connecting to " + remote.base() + "…");
            VBox splash = new VBox(12, new ProgressIndicator(), what);
            splash.setAlignment(Pos.CENTER);
            stage = new Stage();
            stage.setTitle("memhygiene dashboard");
            stage.setScene(new Scene(splash, SnapshotRenderer.WIDTH, SnapshotRenderer.HEIGHT));
            stage.show();
            Thread starter = new Thread(this::start, "memhygiene-ui-start");
            starter.setDaemon(true);
            starter.start();
        }

        private void start() {
            try {
                BuiltinController builtin = null;
                ControllerClient client = remote;
                SourceBreakdown breakdown = SourceBreakdown.FROM_API;
                String source;
                if (client == null) {
                    try {
                        builtin = builtinStart.join();
                    } catch (CompletionException e) {
                        throw e.getCause() instanceof RuntimeException r ? r : e;
                    }
                    phase("controller-started");
                    client = new ControllerClient(builtin.url(), Optional.empty());
                    breakdown = builtin.breakdown();
                    source = builtin.source();
                } else {
                    source = "controller at " + client.base();
                }
                BuiltinController owned = builtin;
                ControllerClient c = client;
                SourceBreakdown b = breakdown;
                Platform.runLater(() -> open(c, b, source, owned));
            } catch (RuntimeException | LinkageError e) { // a bad scenario, a port, a stale build: say so and stop
                Platform.runLater(() -> {
                    System.err.println("memhygiene dashboard: " + e.getMessage());
                    Platform.exit();
                    System.exit(1);
                });
            }
        }

        private void open(
                ControllerClient client, SourceBreakdown breakdown, String source, BuiltinController builtin) {
            DashboardModel model = new DashboardModel();
            DashboardWindow window = new DashboardWindow(model, client, source, theme);
            Dashboard dashboard = new Dashboard(model, client, breakdown);
            stage.getScene().setRoot(window.root());
            phase("window-built");
            String timing = System.getProperty("memhygiene.ui.timing");
            Runnable shutdown = () -> {
                dashboard.close();
                if (builtin != null) {
                    builtin.close();
                }
            };
            IntConsumer exit = code -> {
                stage.setOnHidden(null);
                shutdown.run();
                Platform.exit();
                System.exit(code);
            };
            stage.setOnHidden(e -> exit.accept(0));
            if (timing != null) { // bench/dashboard-perf.sh: "print", or "exit" after printing
                reportFirstChart(model, timing.equals("exit") ? () -> exit.accept(0) : () -> {});
            }
            dashboard.start();
            if (builtin != null && builtin.frontierScenario().isPresent()) {
                // The sweep takes seconds of CPU: after the first sample is drawn, not before.
                model.frontierStatus().set(FrontierTask.COMPUTING + " the policy frontier after the first sample…");
                model.revision().addListener(new javafx.beans.value.ChangeListener<>() {
                    @Override
                    public void changed(
                            javafx.beans.value.ObservableValue<? extends Number> o, Number was, Number now) {
                        model.revision().removeListener(this);
                        FrontierTask.start(builtin.frontierScenario().get(), model);
                    }
                });
            } else {
                model.frontierStatus()
                        .set("No policy frontier: it comes from the simulator (built-in or --scenario mode).");
            }
            if (snapshotDir.isPresent() && builtin != null) {
                // The pictures show measured and assumed postures side by side: every other VM with an agent probed,
                // once
                // they run (the simulated host answers a probe from its model at once).
                BuiltinController probed = builtin;
                model.revision().addListener(new javafx.beans.value.ChangeListener<>() {
                    @Override
                    public void changed(
                            javafx.beans.value.ObservableValue<? extends Number> o, Number was, Number now) {
                        if (model.host().size() < SnapshotRenderer.SAMPLES / 2) {
                            return;
                        }
                        model.revision().removeListener(this);
                        List<String> running = model.rows().stream()
                                .filter(r -> r.vm().agentStatus().equals("OK"))
                                .map(r -> r.vm().name())
                                .sorted()
                                .toList();
                        List<String> everyOther = IntStream.range(0, running.size())
                                .filter(i -> i % 2 == 0)
                                .mapToObj(running::get)
                                .toList();
                        probed.daemon().probes().start(DedupProbeRequest.of(everyOther, 16));
                    }
                });
            }
            snapshotDir.ifPresent(dir -> new SnapshotRenderer(window, model, dir, () -> exit.accept(0), message -> {
                        System.err.println("memhygiene dashboard --snapshot: " + message);
                        exit.accept(1);
                    })
                    .start());
        }

        /** Prints when the first sample has been drawn: milliseconds since the JVM started (the benchmark reads it). */
        private static void reportFirstChart(DashboardModel model, Runnable then) {
            long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
            model.revision().addListener(new javafx.beans.value.ChangeListener<>() {
                @Override
                public void changed(javafx.beans.value.ObservableValue<? extends Number> o, Number was, Number now) {
                    model.revision().removeListener(this);
                    new AnimationTimer() { // the pulse after the one that laid the sample out has drawn it
                        private int pulses;

                        @Override
                        public void handle(long nanos) {
                            if (++pulses == 2) {
                                stop();
                                System.out.println(
                                        "first-chart-drawn-millis=" + (System.currentTimeMillis() - jvmStart));
                                then.run();
                            }
                        }
                    }.start();
                }
            });
        }
    }
}
