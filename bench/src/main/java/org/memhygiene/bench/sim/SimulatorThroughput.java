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
 * </pre>
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
        } else if (args.length >= 2 && args[0].equals("sim")) {
            sim(ScenarioParser.load(Path.of(args[1])), args.length > 2 ? Double.parseDouble(args[2]) : 0);
        } else {
            System.err.println("usage: SimulatorThroughput ksmd SCENARIO.yaml SECONDS | sim SCENARIO.yaml [KSMD_PAGES_PER_CPU_SECOND]");
            System.exit(2);
        }
    }

    private static void sim(Scenario s, double ksmdPagesPerCpuSecond) {
        long t0 = System.nanoTime();
        Simulation sim = new Simulation(s);
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
