package org.memhygiene.bench.sim;

import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.fidelity.FidelityChild;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * The simulator benchmark behind docs/PERFORMANCE.md ("Simulator"); run it through bench/sim-throughput.sh.
 *
 * <pre>
 *   SimulatorThroughput ksmd SCENARIO.yaml SECONDS      the real ksmd at 100 % of a core (root; under the KSM lock)
 *   SimulatorThroughput sim SCENARIO.yaml [KSMD_PAGES_PER_CPU_SECOND]
 *   SimulatorThroughput engines SCENARIO.yaml               both scan engines over the scenario's duration
 * </pre>
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
    private SimulatorThroughput() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("ksmd")) {
            ksmd(ScenarioParser.load(Path.of(args[1])), Integer.parseInt(args[2]));
        } else if (args.length >= 2 && args[0].equals("engines")) {
            engines(ScenarioParser.load(Path.of(args[1])));
        } else if (args.length >= 2 && args[0].equals("sim")) {
            sim(ScenarioParser.load(Path.of(args[1])), args.length > 2 ? Double.parseDouble(args[2]) : 0);
        } else {
            System.err.println("usage: SimulatorThroughput ksmd SCENARIO.yaml SECONDS | sim SCENARIO.yaml [KSMD_PAGES_PER_CPU_SECOND]"
                    + " | engines SCENARIO.yaml");
            System.exit(2);
        }
    }

    /** One engine's run: wall and CPU seconds, and what it showed at every sample. */
    private record EngineRun(ScanEngine engine, double wallSeconds, double cpuSeconds, long pageVisits, List<String> samples) {
    }

    private static EngineRun timed(Scenario s, ScanEngine engine) {
        System.gc();
        long w0 = System.nanoTime();
        long c0 = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        List<String> samples = new ArrayList<>();
        Simulation sim = new Simulation(s, engine);
        for (Duration t = Duration.ZERO; t.compareTo(s.duration()) < 0; t = t.plus(s.sampleInterval())) {
            sim.advance(s.sampleInterval());
            samples.add(sim.elapsed() + " " + sim.ksmStats() + " resident " + sim.residentPages() + " stale "
                    + sim.staleSecretPageSeconds() + " cross-vm " + sim.model().stable.crossVmPages());
            System.out.printf(Locale.ROOT, "  %s %s: %.1f s wall, full scans %d%n", engine.label(), sim.elapsed(),
                    (System.nanoTime() - w0) / 1e9, sim.ksmd().fullScans());
        }
        return new EngineRun(engine, (System.nanoTime() - w0) / 1e9,
                (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - c0) / 1e9, sim.pageVisits(), samples);
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
            System.out.printf(Locale.ROOT, "%s: %s of %s (%,d page visits) in %.1f s wall, %.1f s CPU of this thread%n",
                    r.engine().label(), s.duration(), s.name(), r.pageVisits(), r.wallSeconds(), r.cpuSeconds());
        }
        System.out.printf(Locale.ROOT, "page-by-page / skip-settled: %.1fx wall, %.1fx CPU; %d samples %s%n",
                reference.wallSeconds() / skipping.wallSeconds(), reference.cpuSeconds() / skipping.cpuSeconds(),
                reference.samples().size(), differ < 0 ? "identical (every KSM counter, resident pages, exposure)"
                        : "DIFFER from sample " + differ + ":\n  page-by-page " + reference.samples().get(differ)
                        + "\n  skip-settled " + skipping.samples().get(differ));
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
        System.out.printf(Locale.ROOT, "one simulated hour: %d guests, %,d pages, %s: %.1f s wall; %,d page visits,"
                        + " %,d scanned, %d full scans%n", s.guests().size(), pages, s.name(), hourSeconds,
                sim.pageVisits(), sim.ksmd().pagesScanned(), sim.ksmd().fullScans());
        System.out.printf(Locale.ROOT, "heap after GC: %,d bytes = %.2f bytes per simulated page (max heap -Xmx %,d = %.2f per page)%n",
                heap, (double) heap / pages, max, (double) max / pages);

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
        System.out.printf(Locale.ROOT, "fast scan: %,d page visits (%,d scanned) in %.2f s wall, %.2f s CPU of this thread:"
                + " %.1f M visits/s, %.1f M scanned/s%n", visits, scanned, wall, cpu, visits / cpu / 1e6, scanned / cpu / 1e6);
        if (ksmdPagesPerCpuSecond > 0) {
            System.out.printf(Locale.ROOT, "ratio to the real ksmd (%.0f pages per CPU second): visits %.1fx, scanned %.1fx%n",
                    ksmdPagesPerCpuSecond, visits / cpu / ksmdPagesPerCpuSecond, scanned / cpu / ksmdPagesPerCpuSecond);
        }
    }

    private static void ksmd(Scenario s, int seconds) throws Exception {
        Path ksm = Path.of("/sys/kernel/mm/ksm");
        if (!Files.isWritable(ksm.resolve("run"))) {
            System.err.println("ksmd: needs root and KSM (" + ksm + "/run not writable)");
            System.exit(1);
        }
        List<String> busy = org.memhygiene.simulator.fidelity.FidelityHarness.mergeableProcesses();
        if (!busy.isEmpty()) {
            System.err.println("ksmd: other processes use KSM (" + String.join(", ", busy) + "); run it when they are gone");
            System.exit(1);
        }
        String[] knobs = {"run", "pages_to_scan", "sleep_millisecs", "use_zero_pages", "smart_scan"};
        String[] previous = new String[knobs.length];
        for (int i = 0; i < knobs.length; i++) {
            previous[i] = Files.readString(ksm.resolve(knobs[i])).strip();
        }
        Runnable restore = () -> {
            try {
                Files.writeString(ksm.resolve("run"), "2");
                for (int i = knobs.length - 1; i >= 0; i--) {
                    Files.writeString(ksm.resolve(knobs[i]), previous[i]);
                }
            } catch (Exception e) {
                System.err.println("restoring KSM knobs: " + e);
            }
        };
        Thread hook = new Thread(restore);
        Runtime.getRuntime().addShutdownHook(hook);
        Simulation shadow = new Simulation(s);
        shadow.advanceTo(1);
        HostModel m = shadow.model();
        List<Process> children = new ArrayList<>();
        Path dir = Files.createTempDirectory("memhygiene-ksmd-bench");
        try {
            Files.writeString(ksm.resolve("run"), "2");
            for (Guest g : m.guests) {
                Path file = dir.resolve(g.name());
                try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(file)))) {
                    for (int i = 0; i < g.pages; i++) {
                        int p = g.base + i;
                        out.writeInt(m.has(p, PageFlags.PRESENT) ? m.content[p] : FidelityChild.ABSENT);
                    }
                }
                Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx32m", "-cp", System.getProperty("java.class.path"), FidelityChild.class.getName(),
                        Integer.toString(g.pages), "12345", file.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                children.add(child);
                String line = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                if (!"ready".equals(line)) {
                    throw new IllegalStateException("child for " + g.name() + " said " + line);
                }
            }
            Files.writeString(ksm.resolve("smart_scan"), "0");
            Files.writeString(ksm.resolve("use_zero_pages"), "1");
            Files.writeString(ksm.resolve("pages_to_scan"), "5000");
            Files.writeString(ksm.resolve("sleep_millisecs"), "0");
            Files.writeString(ksm.resolve("run"), "1");
            long scans0 = number(ksm.resolve("full_scans"));
            while (number(ksm.resolve("full_scans")) < scans0 + 2) {
                TimeUnit.MILLISECONDS.sleep(50); // two passes: checksums, then merges; steady state after
            }
            int pid = ksmdPid();
            long ticks0 = cpuTicks(pid);
            long pages0 = number(ksm.resolve("pages_scanned"));
            long w0 = System.nanoTime();
            TimeUnit.SECONDS.sleep(seconds);
            long ticks = cpuTicks(pid) - ticks0;
            long pages = number(ksm.resolve("pages_scanned")) - pages0;
            double wall = (System.nanoTime() - w0) / 1e9;
            double cpu = ticks / 100.0; // USER_HZ
            System.out.printf(Locale.ROOT, "ksmd: %,d pages scanned in %.1f s wall, %.2f s ksmd CPU (%.0f %% of a core) over"
                            + " %,d mergeable pages%n", pages, wall, cpu, 100 * cpu / wall, m.pageCount);
            System.out.printf(Locale.ROOT, "ksmd_pages_per_cpu_second %.0f%n", pages / cpu);
            System.out.printf(Locale.ROOT, "ksmd_ns_per_page %.0f%n", cpu * 1e9 / pages);
        } finally {
            for (Process p : children) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            restore.run();
            Runtime.getRuntime().removeShutdownHook(hook);
            for (Path f : Files.list(dir).toList()) {
                Files.delete(f);
            }
            Files.delete(dir);
        }
    }

    private static long number(Path file) throws Exception {
        return Long.parseLong(Files.readString(file).strip());
    }

    private static int ksmdPid() throws Exception {
        for (Path p : Files.list(Path.of("/proc")).filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
            try {
                if (Files.readString(p.resolve("comm")).strip().equals("ksmd")) {
                    return Integer.parseInt(p.getFileName().toString());
                }
            } catch (java.io.IOException gone) {
                // exited meanwhile
            }
        }
        throw new IllegalStateException("no ksmd thread in /proc");
    }

    /** utime + stime of /proc/PID/stat (fields 14 and 15, in USER_HZ ticks). */
    private static long cpuTicks(int pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
