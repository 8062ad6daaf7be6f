package org.memhygiene.bench.sim;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.KsmdThread;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.fidelity.FidelityChild;
import org.memhygiene.simulator.fidelity.FidelityHarness;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;
import org.memhygiene.simulator.sweep.Sweep;
import org.memhygiene.simulator.sweep.SweepPolicy;

/**
 * The simulator benchmark behind docs/PERFORMANCE.md ("Simulator"); run it through bench/sim-throughput.sh.
 *
 * <pre>
 *   SimulatorThroughput ksmd SCENARIO.yaml SECONDS      the real ksmd at 100 % of a core (root; under the KSM lock)
 *   SimulatorThroughput sim SCENARIO.yaml [KSMD_PAGES_PER_CPU_SECOND]
 *   SimulatorThroughput engines SCENARIO.yaml               both scan engines over the scenario's duration
 *   SimulatorThroughput day SCENARIO.yaml                   the skipping engine alone (bench/sim-ab.sh)
 *   SimulatorThroughput cells SCENARIO.yaml                 the sweep's cells one after another, each timed
 * </pre>
 *
 * <p>cells: the default sweep's grid ({@link Sweep}) one cell at a time in this JVM, in grid order, each
 * timed (wall and this thread's CPU): which cells a sweep's time goes to, without the second CPU and the
 * compiler threads beside them.
 *
 * <p>day: the first half of engines, the skipping engine alone, timed the same way; then what it showed
 * at every sample ("counters ..."); its last line "skip-settled: ... s CPU of this thread".
 * bench/sim-ab.sh runs it against the simulator of two commits in turn and compares their counters.
 *
 * <p>engines: the scenario's duration with the skipping engine, then with the page-by-page engine, in
 * this one JVM, each timed (wall and this thread's CPU) from building the host to the end; the KSM
 * counters, resident pages and exposure compared at every sample_interval. Prints both times, the
 * ratio and whether every sample was identical (exit 1 if not).
 *
 * ksmd: makes the scenario's guests real (one {@link FidelityChild} per guest with the simulated
 * contents in MADV_MERGEABLE memory), sets pages_to_scan=5000 and sleep_millisecs=0 so ksmd never
 * sleeps, and after a warm-up pass divides the pages_scanned delta by ksmd's CPU time
 * (/proc/PID/stat utime+stime) over SECONDS; restores every knob. Prints "ksmd_pages_per_cpu_second N".
 *
 * <p>sim: one simulated hour of the scenario at its own (default) scan rate, timed, with the heap
 * held per simulated page after a full GC; then the same host at pages_to_scan=100000 for simulated
 * time worth about 10 s of wall time, for page visits per second on this one thread. With the real
 * ksmd figure it prints the ratio. Not JMH: a run is seconds to a minute of one deterministic loop.
 */
public final class SimulatorThroughput {
    private SimulatorThroughput() {}

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("ksmd")) {
            ksmd(ScenarioParser.load(Path.of(args[1])), Integer.parseInt(args[2]));
        } else if (args.length >= 2 && args[0].equals("engines")) {
            engines(ScenarioParser.load(Path.of(args[1])));
        } else if (args.length >= 2 && args[0].equals("day")) {
            Scenario s = ScenarioParser.load(Path.of(args[1]));
            EngineRun run = timed(s, ScanEngine.SKIP_SETTLED);
            run.samples().forEach(sample -> System.out.println("  counters " + sample));
            report(s, run);
        } else if (args.length >= 2 && args[0].equals("cells")) {
            cells(ScenarioParser.load(Path.of(args[1])));
        } else if (args.length >= 2 && args[0].equals("sim")) {
            sim(ScenarioParser.load(Path.of(args[1])), args.length > 2 ? Double.parseDouble(args[2]) : 0);
        } else {
            System.err.println(
                    "usage: SimulatorThroughput ksmd SCENARIO.yaml SECONDS | sim SCENARIO.yaml [KSMD_PAGES_PER_CPU_SECOND]"
                            + " | engines SCENARIO.yaml | day SCENARIO.yaml | cells SCENARIO.yaml");
            System.exit(2);
        }
    }

    private static void cells(Scenario s) {
        for (SweepPolicy policy : Sweep.defaultPolicies()) {
            for (HygieneMode mode : Sweep.defaultModes()) {
                long w0 = System.nanoTime();
                long c0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
                Sweep.run(s, List.of(policy), List.of(mode), s.duration(), ScanEngine.SKIP_SETTLED, 1);
                System.out.printf(
                        Locale.ROOT,
                        "%s / %s: %.2f s wall, %.2f s CPU%n",
                        policy.label(),
                        mode.label(),
                        (System.nanoTime() - w0) / 1e9,
                        (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0) / 1e9);
            }
        }
    }

    /** One engine's run: wall and CPU seconds, and what it showed at every sample. */
    private record EngineRun(
            ScanEngine engine, double wallSeconds, double cpuSeconds, long pageVisits, List<String> samples) {}

    private static EngineRun timed(Scenario s, ScanEngine engine) {
        System.gc();
        long w0 = System.nanoTime();
        long c0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        List<String> samples = new ArrayList<>();
        Simulation sim = new Simulation(s, engine);
        for (Duration t = Duration.ZERO; t.compareTo(s.duration()) < 0; t = t.plus(s.sampleInterval())) {
            sim.advance(s.sampleInterval());
            samples.add(sim.elapsed() + " " + sim.ksmStats() + " resident " + sim.residentPages() + " stale "
                    + sim.staleSecretPageSeconds() + " cross-vm "
                    + sim.model().stable.crossVmPages());
            System.out.printf(
                    Locale.ROOT,
                    "  %s %s: %.1f s wall, full scans %d%n",
                    engine.label(),
                    sim.elapsed(),
                    (System.nanoTime() - w0) / 1e9,
                    sim.ksmd().fullScans());
        }
        return new EngineRun(
                engine,
                (System.nanoTime() - w0) / 1e9,
                (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0) / 1e9,
                sim.pageVisits(),
                samples);
    }

    private static void report(Scenario s, EngineRun r) {
        System.out.printf(
                Locale.ROOT,
                "%s: %s of %s (%,d page visits) in %.1f s wall, %.1f s CPU of this thread%n",
                r.engine().label(),
                s.duration(),
                s.name(),
                r.pageVisits(),
                r.wallSeconds(),
                r.cpuSeconds());
    }

    private static void engines(Scenario s) {
        EngineRun skipping = timed(s, ScanEngine.SKIP_SETTLED);
        EngineRun reference = timed(s, ScanEngine.PAGE_BY_PAGE);
        int differ = -1;
        for (int i = 0; i < reference.samples().size() && differ < 0; i++) {
            if (!reference.samples().get(i).equals(skipping.samples().get(i))) {
                differ = i;
            }
        }
        for (EngineRun r : List.of(skipping, reference)) {
            report(s, r);
        }
        System.out.printf(
                Locale.ROOT,
                "page-by-page / skip-settled: %.1fx wall, %.1fx CPU; %d samples %s%n",
                reference.wallSeconds() / skipping.wallSeconds(),
                reference.cpuSeconds() / skipping.cpuSeconds(),
                reference.samples().size(),
                differ < 0
                        ? "identical (every KSM counter, resident pages, exposure)"
                        : "DIFFER from sample " + differ + ":\n  page-by-page "
                                + reference.samples().get(differ) + "\n  skip-settled "
                                + skipping.samples().get(differ));
        if (differ >= 0) {
            System.exit(1);
        }
    }

    private static void sim(Scenario s, double ksmdPagesPerCpuSecond) {
        long t0 = System.nanoTime();
        Simulation sim = new Simulation(s, ScanEngine.PAGE_BY_PAGE); // the page loop against the real ksmd's
        sim.advance(Duration.ofHours(1));
        double hourSeconds = (System.nanoTime() - t0) / 1e9;
        long pages = sim.model().pageCount;
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long max = Runtime.getRuntime().maxMemory();
        System.out.printf(
                Locale.ROOT,
                "one simulated hour: %d guests, %,d pages, %s: %.1f s wall; %,d page visits,"
                        + " %,d scanned, %d full scans%n",
                s.guests().size(),
                pages,
                s.name(),
                hourSeconds,
                sim.pageVisits(),
                sim.ksmd().pagesScanned(),
                sim.ksmd().fullScans());
        System.out.printf(
                Locale.ROOT,
                "heap after GC: %,d bytes = %.2f bytes per simulated page (max heap -Xmx %,d = %.2f per page)%n",
                heap,
                (double) heap / pages,
                max,
                (double) max / pages);

        sim.applyKsm(KsmSettings.parse(List.of("pages_to_scan=100000", "sleep_millisecs=20")));
        sim.advance(Duration.ofSeconds(30)); // warm-up at the new rate
        long visits0 = sim.pageVisits();
        long scanned0 = sim.ksmd().pagesScanned();
        long w0 = System.nanoTime();
        long threadCpu0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        while (System.nanoTime() - w0 < 10_000_000_000L) {
            sim.advance(Duration.ofSeconds(10));
        }
        double wall = (System.nanoTime() - w0) / 1e9;
        double cpu = (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - threadCpu0) / 1e9;
        long visits = sim.pageVisits() - visits0;
        long scanned = sim.ksmd().pagesScanned() - scanned0;
        System.out.printf(
                Locale.ROOT,
                "fast scan: %,d page visits (%,d scanned) in %.2f s wall, %.2f s CPU of this thread:"
                        + " %.1f M visits/s, %.1f M scanned/s%n",
                visits,
                scanned,
                wall,
                cpu,
                visits / cpu / 1e6,
                scanned / cpu / 1e6);
        if (ksmdPagesPerCpuSecond > 0) {
            System.out.printf(
                    Locale.ROOT,
                    "ratio to the real ksmd (%.0f pages per CPU second): visits %.1fx, scanned %.1fx%n",
                    ksmdPagesPerCpuSecond,
                    visits / cpu / ksmdPagesPerCpuSecond,
                    scanned / cpu / ksmdPagesPerCpuSecond);
        }
    }

    private static void ksmd(Scenario s, int seconds) throws Exception {
        String unavailable = FidelityHarness.unavailableReason();
        if (unavailable != null) {
            System.err.println("ksmd: " + unavailable);
            System.exit(1);
        }
        List<String> busy = FidelityHarness.mergeableProcesses();
        if (!busy.isEmpty()) {
            System.err.println(
                    "ksmd: other processes use KSM (" + String.join(", ", busy) + "); run it when they are gone");
            System.exit(1);
        }
        KsmSysfs ksm = new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
        KsmSettings flatOut = KsmSettings.parse(
                List.of("smart_scan=0", "use_zero_pages=1", "pages_to_scan=5000", "sleep_millisecs=0", "run=1"));
        // run=2 before the knobs go back: what the run merged is unmerged, also on a failure or a signal.
        KsmRestorePoint restorePoint = KsmRestorePoint.of(
                ksm, flatOut.inWriteOrder().stream().map(Map.Entry::getKey).toList(), true);
        Thread hook = restorePoint.restoreOnShutdown();
        Simulation shadow = new Simulation(s);
        shadow.advanceTo(1);
        HostModel m = shadow.model();
        List<Process> children = new ArrayList<>();
        Path dir = Files.createTempDirectory("memhygiene-ksmd-bench");
        try {
            ksm.apply(KsmSettings.parse(List.of("run=2")));
            for (Guest g : m.guests) {
                Path file = dir.resolve(g.name());
                try (DataOutputStream out =
                        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
                    for (int i = 0; i < g.pages; i++) {
                        int p = g.base + i;
                        out.writeInt(m.has(p, PageFlags.PRESENT) ? m.content[p] : FidelityChild.ABSENT);
                    }
                }
                Process child = new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java")
                                        .toString(),
                                "-Xmx32m",
                                "-cp",
                                System.getProperty("java.class.path"),
                                FidelityChild.class.getName(),
                                Integer.toString(g.pages),
                                "12345",
                                file.toString())
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
                children.add(child);
                String line = new BufferedReader(
                                new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))
                        .readLine();
                if (!"ready".equals(line)) {
                    throw new IllegalStateException("child for " + g.name() + " said " + line);
                }
            }
            ksm.apply(flatOut);
            long scans0 = ksm.read().fullScans().orElseThrow();
            while (ksm.read().fullScans().orElseThrow() < scans0 + 2) {
                TimeUnit.MILLISECONDS.sleep(50); // two passes: checksums, then merges; steady state after
            }
            KsmdThread ksmd = KsmdThread.ofThisMachine();
            long cpu0 = ksmd.cpuMillis().orElseThrow();
            long pages0 = ksm.read().pagesScanned().orElseThrow();
            long w0 = System.nanoTime();
            TimeUnit.SECONDS.sleep(seconds);
            double cpu = (ksmd.cpuMillis().orElseThrow() - cpu0) / 1e3;
            long pages = ksm.read().pagesScanned().orElseThrow() - pages0;
            double wall = (System.nanoTime() - w0) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "ksmd: %,d pages scanned in %.1f s wall, %.2f s ksmd CPU (%.0f %% of a core) over"
                            + " %,d mergeable pages%n",
                    pages,
                    wall,
                    cpu,
                    100 * cpu / wall,
                    m.pageCount);
            System.out.printf(Locale.ROOT, "ksmd_pages_per_cpu_second %.0f%n", pages / cpu);
            System.out.printf(Locale.ROOT, "ksmd_ns_per_page %.0f%n", cpu * 1e9 / pages);
        } finally {
            for (Process p : children) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            restorePoint.restore();
            Runtime.getRuntime().removeShutdownHook(hook);
            for (Path f : Files.list(dir).toList()) {
                Files.delete(f);
            }
            Files.delete(dir);
        }
    }
}
