package org.memhygiene.bench.guestmemory;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.memhygiene.controller.guestmemory.FastKsm;
import org.memhygiene.controller.guestmemory.GuestMemoryMethod;
import org.memhygiene.controller.guestmemory.GuestMemoryMonitor;
import org.memhygiene.controller.guestmemory.GuestMemoryTarget;
import org.memhygiene.controller.guestmemory.GuestRamChild;
import org.memhygiene.controller.guestmemory.PassBudget;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.Smaps;

/**
 * The cost of the guest-memory pass behind docs/PERFORMANCE.md ("Guest memory: the pagemap pass"); run it
 * through bench/pagemap-pass.sh, as root, under the KSM lock.
 *
 * <pre>
 *   PagemapPassCost [GIB [ROUNDS]]      (defaults: 4 GiB, 7 rounds)
 * </pre>
 *
 * Three real processes stand in for a QEMU process's guest RAM (guest_ram_child.c), one at a time:
 * <ol>
 * <li>"small pages after a scrub": a MADV_MERGEABLE, MADV_NOHUGEPAGE mapping of GIB, a quarter each
 *     of distinct data (private), identical data (merged by the real KSM: KSM-shared), data zeroed and
 *     merged with the zero page (use_zero_pages=1), and never touched;</li>
 * <li>"THP, all written": a MADV_HUGEPAGE mapping of GIB, every page written (transparent huge pages
 *     where the kernel has them), as a guest's RAM before KSM splits it;</li>
 * <li>"an idle scrubbed guest": 32 MiB written, three quarters mapped to the zero page (read), the rest
 *     never touched: the stand-in QEMU of bench/daemon-footprint.sh.</li>
 * </ol>
 * For each, and for each way of reading the pages — pagemap+kpageflags, PAGEMAP_SCAN with kpageflags for
 * the present small pages (as root), PAGEMAP_SCAN alone (as memhygiene.service) — ROUNDS rounds after one
 * warm-up alternate a whole pass of {@link GuestMemoryMonitor} and one read of the process's
 * /proc/PID/smaps_rollup (the reference), and print the thread CPU time (user + system, what counts
 * against the daemon's CPU target) and wall time of each, their medians per page and their ratio. Then
 * the daemon's case: the monitor with the default {@link PassBudget} over 50 VMs (50 targets on the same
 * process, each its own pass and pagemap file), {@value #SAMPLES} samples back to back: CPU per sample,
 * which at one sample a second is the share of a core, and how many samples a round over all 50 takes.
 * Not JMH: one pass is tens to hundreds of milliseconds of kernel work.
 */
public final class PagemapPassCost {
    private static final Path PROC = Path.of("/proc");
    private static final Path THP = Path.of("/sys/kernel/mm/transparent_hugepage");
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int SAMPLES = 300;
    private static final int VMS = 50;

    private PagemapPassCost() {}

    public static void main(String[] args) throws Exception {
        long bytes = (long) ((args.length > 0 ? Double.parseDouble(args[0]) : 4) * (1L << 30));
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        long pages = bytes / PAGE / 4 * 4;
        System.out.printf(
                Locale.ROOT,
                "== guest-memory passes vs smaps_rollup: %d MiB (%d pages of %d bytes), %d rounds; %s; %s%n",
                pages * PAGE >> 20,
                pages,
                PAGE,
                rounds,
                System.getProperty("java.vm.version"),
                kernel());
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(pages, false);
            long quarter = pages / 4;
            long seed = new Random().nextLong() >>> 1;
            child.unique(0, 0, quarter, seed);
            child.same(0, quarter, quarter, seed);
            child.unique(0, 2 * quarter, quarter, seed + 1);
            child.zero(0, 2 * quarter, quarter);
            child.mergeable(0);
            mergeWithKsm(child, quarter);
            everyMethod("small pages after a scrub", child, pages, rounds);
        }
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(pages, true);
            child.unique(0, 0, pages, 5);
            everyMethod("THP, all written", child, pages, rounds);
        }
        try (GuestRamChild child = GuestRamChild.start()) {
            child.map(pages, false);
            long written = (32L << 20) / PAGE;
            child.unique(0, 0, written, 6);
            child.read(0, written, pages * 3 / 4 - written);
            everyMethod("an idle scrubbed guest", child, pages, rounds);
        }
    }

    private static void everyMethod(String scenario, GuestRamChild child, long pages, int rounds) {
        record Way(GuestMemoryMethod method, GuestMemory.Method expected) {}
        for (Way way : List.of(
                new Way(GuestMemoryMethod.PAGEMAP, GuestMemory.Method.PAGEMAP),
                new Way(GuestMemoryMethod.AUTO, GuestMemory.Method.PAGEMAP_SCAN_KPAGEFLAGS),
                new Way(GuestMemoryMethod.PAGEMAP_SCAN, GuestMemory.Method.PAGEMAP_SCAN))) {
            String label = scenario + ", " + way.expected().label();
            measure(label, child, pages, rounds, way.method(), way.expected());
            sustained(label, child, pages, way.method(), way.expected());
        }
    }

    private static void measure(
            String scenario,
            GuestRamChild child,
            long pages,
            int rounds,
            GuestMemoryMethod method,
            GuestMemory.Method expected) {
        List<Double> passCpu = new ArrayList<>();
        List<Double> passWall = new ArrayList<>();
        List<Double> rollupCpu = new ArrayList<>();
        List<Double> rollupWall = new ArrayList<>();
        GuestMemory last = null;
        List<GuestMemoryTarget> target = List.of(new GuestMemoryTarget("vm", child.pid(), pages * PAGE));
        try (GuestMemoryMonitor monitor = GuestMemoryMonitor.open(
                PROC,
                THP,
                PAGE,
                new PassBudget(PassBudget.MAX_PAGES_PER_SAMPLE, Duration.ofMinutes(1)),
                method,
                Clock.systemUTC())) {
            for (int round = 0; round <= rounds; round++) {
                long cpu = THREADS.getCurrentThreadCpuTime();
                long wall = System.nanoTime();
                last = monitor.sample(target).get("vm");
                double pc = (THREADS.getCurrentThreadCpuTime() - cpu) / (double) pages;
                double pw = (System.nanoTime() - wall) / (double) pages;
                cpu = THREADS.getCurrentThreadCpuTime();
                wall = System.nanoTime();
                long rss = Smaps.readRollup(PROC, child.pid()).rssBytes().getAsLong();
                double rc = (THREADS.getCurrentThreadCpuTime() - cpu) / (double) pages;
                double rw = (System.nanoTime() - wall) / (double) pages;
                if (last.method() != expected) {
                    throw new IllegalStateException("the pass fell back: " + last.methodDescription());
                }
                System.out.printf(
                        Locale.ROOT,
                        "  %s %d: pass %.1f ns/page CPU (%.1f wall), smaps_rollup %.2f ns/page CPU"
                                + " (%.2f wall), Rss %d MiB%n",
                        round == 0 ? "warm-up" : "round",
                        round,
                        pc,
                        pw,
                        rc,
                        rw,
                        rss >> 20);
                if (round > 0) {
                    passCpu.add(pc);
                    passWall.add(pw);
                    rollupCpu.add(rc);
                    rollupWall.add(rw);
                }
            }
        }
        double pass = median(passCpu);
        double rollup = median(rollupCpu);
        System.out.printf(Locale.ROOT, "%s: %s%n", scenario, last.pages());
        System.out.printf(
                Locale.ROOT,
                "%s: median CPU per page: pass %.1f ns (wall %.1f), smaps_rollup %.2f ns (wall %.2f);"
                        + " ratio %.1fx; a whole pass of %d MiB: %.1f ms CPU, smaps_rollup %.2f ms%n",
                scenario,
                pass,
                median(passWall),
                rollup,
                median(rollupWall),
                pass / rollup,
                pages * PAGE >> 20,
                pass * pages / 1e6,
                rollup * pages / 1e6);
        for (double millisPerSecond : new double[] {1, 2, 5}) {
            double pagesPerSecond = millisPerSecond * 1e6 / pass;
            System.out.printf(
                    Locale.ROOT,
                    "  at %.0f ms of CPU per 1 s sample (%.1f %% of a core): %.0f pages/s;"
                            + " a 4 GiB VM every %.0f s, 50 of them every %.0f min%n",
                    millisPerSecond,
                    millisPerSecond / 10,
                    pagesPerSecond,
                    (4L << 30) / PAGE / pagesPerSecond,
                    50 * ((4L << 30) / PAGE) / pagesPerSecond / 60);
        }
    }

    /** The default budget over 50 VMs: CPU per sample, pages per sample, and the samples a round takes. */
    private static void sustained(
            String scenario, GuestRamChild child, long pages, GuestMemoryMethod method, GuestMemory.Method expected) {
        List<GuestMemoryTarget> targets = new ArrayList<>();
        for (int vm = 0; vm < VMS; vm++) {
            targets.add(new GuestMemoryTarget("vm" + vm, child.pid(), pages * PAGE));
        }
        // The daemon's budget, measuring again at once: back-to-back samples stand for hours of a real host.
        PassBudget budget = new PassBudget(PassBudget.DEFAULT.pagesPerSample(), PassBudget.DEFAULT.maxPerSample());
        List<Double> cpuMillis = new ArrayList<>();
        long passes = 0;
        double partial = 0;
        try (GuestMemoryMonitor monitor = GuestMemoryMonitor.open(PROC, THP, PAGE, budget, method, Clock.systemUTC())) {
            Map<String, GuestMemory> previous = Map.of();
            for (int sample = 0; sample < SAMPLES; sample++) {
                long cpu = THREADS.getCurrentThreadCpuTime();
                Map<String, GuestMemory> latest = monitor.sample(targets);
                cpuMillis.add((THREADS.getCurrentThreadCpuTime() - cpu) / 1e6);
                for (Map.Entry<String, GuestMemory> e : latest.entrySet()) {
                    if (e.getValue() != previous.get(e.getKey())) {
                        passes++;
                        if (e.getValue().method() != expected) {
                            throw new IllegalStateException(
                                    "the pass fell back: " + e.getValue().methodDescription());
                        }
                    }
                }
                previous = latest;
            }
            for (GuestMemoryTarget target : targets) {
                partial += monitor.progress(target.vmName()).getAsDouble();
            }
        }
        double mean =
                cpuMillis.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double max = cpuMillis.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        double pagesPerSample = (passes + partial) * pages / SAMPLES;
        System.out.printf(
                Locale.ROOT,
                "%s, default budget (%d pages, %d ms a sample), %d VMs of %d MiB: %d passes in %d samples;"
                        + " CPU per sample mean %.2f ms (max %.2f), %.3f %% of a core at 1 sample/s; about %.0f pages a sample,"
                        + " a round over all %d VMs every %.0f samples%n",
                scenario,
                budget.pagesPerSample(),
                budget.maxPerSample().toMillis(),
                VMS,
                pages * PAGE >> 20,
                passes,
                SAMPLES,
                mean,
                max,
                mean / 10,
                pagesPerSample,
                VMS,
                VMS * pages / Math.max(1, pagesPerSample));
    }

    /** Merges the identical and the zeroed quarter with the real KSM, then puts the knobs back. */
    private static void mergeWithKsm(GuestRamChild child, long quarter) throws Exception {
        if (!FastKsm.available()) {
            throw new IllegalStateException("needs root and KSM (/sys/kernel/mm/ksm/run not writable)");
        }
        try (FastKsm ksm = FastKsm.start(20_000)) {
            ProcessKsmStat merged = ksm.waitForMerging(child.pid(), quarter, quarter, 30);
            System.out.printf(
                    Locale.ROOT,
                    "KSM merged %d pages and zero-mapped %d%n",
                    merged.mergingPages().getAsLong(),
                    merged.zeroPages().getAsLong());
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static String kernel() throws Exception {
        return "Linux "
                + Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
    }
}
