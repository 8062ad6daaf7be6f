package org.memhygiene.simulator.sweep;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.HeapEstimate;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;

/**
 * Runs one scenario over a grid of KSM policies x guest hygiene modes and reports, per cell, the memory
 * reclaimed against what it exposes: the frontier the dashboard plots and {@code memhygiene sim sweep}
 * prints. Each cell is an independent, deterministic simulation (same seed).
 */
public final class Sweep {
    private Sweep() {}

    /** KSM off, kernel defaults, defaults plus zero pages, and a fast scan with zero pages. */
    public static List<SweepPolicy> defaultPolicies() {
        return List.of(
                new SweepPolicy("off", KsmSettings.parse(List.of("run=0"))),
                new SweepPolicy(
                        "default",
                        KsmSettings.parse(
                                List.of("run=1", "pages_to_scan=100", "sleep_millisecs=20", "use_zero_pages=0"))),
                new SweepPolicy(
                        "zero-pages",
                        KsmSettings.parse(
                                List.of("run=1", "pages_to_scan=100", "sleep_millisecs=20", "use_zero_pages=1"))),
                new SweepPolicy(
                        "fast+zero",
                        KsmSettings.parse(
                                List.of("run=1", "pages_to_scan=1000", "sleep_millisecs=10", "use_zero_pages=1"))));
    }

    public static List<HygieneMode> defaultModes() {
        return List.of(HygieneMode.values());
    }

    /** The default grid over the scenario's own duration. */
    public static List<SweepResult> run(Scenario scenario) {
        return run(scenario, defaultPolicies(), defaultModes(), scenario.duration());
    }

    public static List<SweepResult> run(
            Scenario scenario, List<SweepPolicy> policies, List<HygieneMode> modes, Duration duration) {
        return run(
                scenario,
                policies,
                modes,
                duration,
                ScanEngine.SKIP_SETTLED,
                parallelism(
                        scenario,
                        Runtime.getRuntime().availableProcessors(),
                        Runtime.getRuntime().maxMemory()));
    }

    /**
     * Cells side by side: one per CPU, as many as {@code heapBytes} holds (HeapEstimate), at least one.
     * Each cell is an independent simulation, so the results do not depend on it.
     */
    public static int parallelism(Scenario scenario, int cpus, long heapBytes) {
        HeapEstimate need = HeapEstimate.of(scenario);
        int cells = defaultPolicies().size() * defaultModes().size();
        int fit = 1;
        while (fit < Math.min(cpus, cells) && need.maxHeapBytes(fit + 1) <= heapBytes) {
            fit++;
        }
        return fit;
    }

    /** The grid, {@code parallelism} cells at a time; results in grid order (policies, then modes). */
    public static List<SweepResult> run(
            Scenario scenario,
            List<SweepPolicy> policies,
            List<HygieneMode> modes,
            Duration duration,
            ScanEngine engine,
            int parallelism) {
        if (policies.isEmpty() || modes.isEmpty()) {
            throw new IllegalArgumentException("a sweep needs at least one policy and one hygiene mode");
        }
        Clock fixed = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        List<Callable<SweepResult>> cells = new ArrayList<>();
        List<Double> scanRates = new ArrayList<>();
        for (SweepPolicy policy : policies) {
            for (HygieneMode mode : modes) {
                Scenario cell = withPolicy(withMode(scenario, mode), policy.settings());
                scanRates.add(scanRate(cell));
                cells.add(() -> {
                    try (SimulatedHost host = SimulatedHost.of(cell, fixed, 1, engine)) {
                        host.advance(duration);
                        Exposure e = host.exposure();
                        return new SweepResult(
                                policy.label() + " / " + mode.label(),
                                policy.label(),
                                policy.settings(),
                                mode,
                                e.reclaimedBytes(),
                                e,
                                host.snapshot(),
                                false);
                    }
                });
            }
        }
        List<SweepResult> results = new ArrayList<>();
        if (parallelism <= 1 || cells.size() == 1) {
            for (Callable<SweepResult> c : cells) {
                results.add(call(c));
            }
            return markFrontier(results);
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, cells.size()), r -> {
            Thread t = new Thread(r, "sweep-cell");
            t.setDaemon(true);
            return t;
        });
        try {
            // The cells that scan fastest take longest: started first, so that no CPU is left with a long
            // cell alone at the end (longest first; the grid order of the results does not change).
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < cells.size(); i++) {
                order.add(i);
            }
            order.sort(Comparator.comparing(scanRates::get).reversed());
            List<Future<SweepResult>> futures = new ArrayList<>(Collections.nCopies(cells.size(), null));
            for (int i : order) {
                futures.set(i, pool.submit(cells.get(i)));
            }
            for (Future<SweepResult> f : futures) {
                results.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sweep interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return markFrontier(results);
    }

    /** Pages ksmd scans per millisecond of sleep in the cell's settings: how much work the cell is. */
    private static double scanRate(Scenario cell) {
        Map<KsmKnob, String> ksm = cell.ksm();
        if (!ksm.getOrDefault(KsmKnob.RUN, "1").equals("1")) {
            return 0;
        }
        return Double.parseDouble(ksm.getOrDefault(KsmKnob.PAGES_TO_SCAN, "100"))
                / Math.max(1, Double.parseDouble(ksm.getOrDefault(KsmKnob.SLEEP_MILLISECS, "20")));
    }

    private static SweepResult call(Callable<SweepResult> cell) {
        try {
            return cell.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The frontier, the one {@code sim sweep} marks and the dashboard draws: each result marked on it when no
     * other result reclaims at least as much with no more cross-VM merged non-zero pages and no more
     * stale-secret page-seconds, and beats it on one of the three.
     */
    public static List<SweepResult> markFrontier(List<SweepResult> results) {
        List<SweepResult> marked = new ArrayList<>();
        for (SweepResult r : results) {
            boolean dominated = results.stream()
                    .anyMatch(o -> o != r
                            && o.reclaimedBytes() >= r.reclaimedBytes()
                            && o.exposure().crossVmMergedNonZeroPages()
                                    <= r.exposure().crossVmMergedNonZeroPages()
                            && o.exposure().staleSecretPageSeconds()
                                    <= r.exposure().staleSecretPageSeconds()
                            && (o.reclaimedBytes() > r.reclaimedBytes()
                                    || o.exposure().crossVmMergedNonZeroPages()
                                            < r.exposure().crossVmMergedNonZeroPages()
                                    || o.exposure().staleSecretPageSeconds()
                                            < r.exposure().staleSecretPageSeconds()));
            marked.add(r.onFrontier(!dominated));
        }
        return List.copyOf(marked);
    }

    /** Every guest in {@code mode}; agent_scrub brings the agent, other modes keep the scenario's choice. */
    static Scenario withMode(Scenario s, HygieneMode mode) {
        List<GuestSpec> guests = new ArrayList<>();
        for (GuestSpec g : s.guests()) {
            GuestSpec.Hygiene h = g.hygiene();
            guests.add(new GuestSpec(
                    g.name(),
                    g.uuid(),
                    g.image(),
                    g.memoryBytes(),
                    g.vcpus(),
                    g.posture(),
                    g.noSharePages(),
                    g.numaNode(),
                    g.startAt(),
                    g.boot(),
                    g.layout(),
                    g.sharing(),
                    g.freeMemory(),
                    g.churn(),
                    new GuestSpec.Hygiene(
                            mode, h.agent() || mode == HygieneMode.AGENT_SCRUB, h.scrub(), h.freePageReporting()),
                    g.balloon() || mode == HygieneMode.FREE_PAGE_REPORTING,
                    g.balloonStatsPeriodSeconds(),
                    g.kernel()));
        }
        return s.withGuests(guests);
    }

    static Scenario withPolicy(Scenario s, KsmSettings settings) {
        Map<KsmKnob, String> ksm = new EnumMap<>(KsmKnob.class);
        ksm.putAll(s.ksm());
        settings.inWriteOrder().forEach(e -> ksm.put(e.getKey(), e.getValue()));
        return s.withKsm(ksm);
    }
}
