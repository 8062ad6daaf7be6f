package org.memhygiene.controller.guestmemory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.procmem.PagemapScanner;
import org.memhygiene.core.procmem.PfnTable;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.ProcessStatus;

/**
 * Measures the guest RAM of every running VM, page by page, a little per sample: each {@link #sample}
 * walks at most {@link PassBudget#pagesPerSample()} pages in all and stops at {@link PassBudget#maxPerSample()},
 * one VM after the other, so each VM's figure comes from a pass of a few samples. A VM's latest completed
 * pass stays its figure, with its time, until the next completes. docs/RECLAIM.md defines the states.
 * <p>
 * Which VM goes first (docs/RECLAIM.md, "Which VM is measured when"): a VM asked to be measured again soon
 * ({@link #refreshSoon}: it was scrubbed, its RSS moved by a sixteenth of its memory or more, or its last
 * urgent passes kept finding its reclaimed memory changing), oldest request first; then a pass under way;
 * then a VM never measured; then the oldest figure — but none measured again within
 * {@link PassBudget#minRefresh()} unless asked. So a scrub's reclaim shows within a few samples however
 * many VMs the host has, and the CPU the passes take stays within the budget.
 * <p>
 * Never throws from {@link #sample}: a VM that cannot be measured by its pages gets a smaps_rollup
 * measurement with the reason. Holds no lock shared with anything else (the kernel takes each QEMU
 * process's mmap lock for reading while it walks its page tables). Not thread-safe, except
 * {@link #refreshSoon}: call the rest from one thread, e.g. the sampler's.
 */
public final class GuestMemoryMonitor implements AutoCloseable {
    /**
     * Pages read per pagemap syscall and classified at a time (32 KiB of entries): small enough that the
     * time a sample may run over its budget, at most about one chunk, stays a fraction of it.
     */
    static final int CHUNK_PAGES = 4096;
    /** Runs of pages PAGEMAP_SCAN returns per call (96 KiB): most chunks fit in one call. */
    static final int SCAN_REGIONS = 4096;
    /** After an asked-for pass, the VM stays first while its reclaimed memory keeps moving: at most this many passes. */
    static final int FOLLOW_UP_PASSES = 8;
    /** A change of RSS, or of reclaimed memory between urgent passes, worth a pass at once: this share of guest RAM... */
    static final long CHANGE_DIVISOR = 16;
    /** ...and at least this much. */
    static final long MIN_CHANGE_BYTES = 16L * 1024 * 1024;

    private static final int PFN_SCRATCH_BYTES = 32 * 1024;

    /** A VM's pass and what decides when it runs. */
    private static final class Entry {
        final GuestMemoryPass pass;
        /** The monitor's sample count when a fresh pass was asked for; -1 when none is. */
        long askedAt = -1;
        /** Urgent passes left while the figure keeps moving. */
        int followUps;
        /** The RSS the caller reported when it was last noticed, to notice a large change. */
        OptionalLong lastRssBytes = OptionalLong.empty();

        Entry(GuestMemoryPass pass) {
            this.pass = pass;
        }
    }

    private static final Comparator<Entry> ORDER = Comparator.comparingLong(
                    (Entry e) -> e.askedAt >= 0 ? e.askedAt : Long.MAX_VALUE)
            .thenComparingInt(e -> e.pass.underWay() ? 0 : 1)
            .thenComparing(e -> e.pass.latest().map(GuestMemory::measuredAt).orElse(Instant.MIN));

    private final PassBudget budget;
    private final GuestMemoryPass.Tools tools;
    private final PfnTable flags;
    private final PfnTable counts;
    private final Clock clock;
    private final LinkedHashMap<String, Entry> passes = new LinkedHashMap<>();
    private final Map<String, String> asked = new ConcurrentHashMap<>();
    private final List<Entry> order = new ArrayList<>();
    private long samples;
    /**
     * The time the passes may still take, carried from sample to sample: {@link PassBudget#maxPerSample()}
     * more each sample, at most that much saved up, and what a sample took over it (a chunk that ran long,
     * a smaps_rollup read, which cannot be cut: tens of ms for 4 GiB of small pages) owed by the next ones.
     * So the passes take at most the budget on average, whatever a single read costs.
     */
    private long timeCreditNanos;

    private GuestMemoryMonitor(
            PassBudget budget, GuestMemoryPass.Tools tools, PfnTable flags, PfnTable counts, Clock clock) {
        this.budget = budget;
        this.tools = tools;
        this.flags = flags;
        this.counts = counts;
        this.clock = clock;
    }

    /** {@link #open(Path, Path, long, PassBudget, GuestMemoryMethod, Clock)} with {@link GuestMemoryMethod#AUTO}. */
    public static GuestMemoryMonitor open(
            Path procRoot, Path thpSysfs, long pageSizeBytes, PassBudget budget, Clock clock) {
        return open(procRoot, thpSysfs, pageSizeBytes, budget, GuestMemoryMethod.AUTO, clock);
    }

    /**
     * Finds out what this process may read — PAGEMAP_SCAN (a scan of its own pagemap), page frames
     * (CAP_SYS_ADMIN and /proc/kpageflags, opened once) — and measures by the best of them that
     * {@code method} allows; where none, every VM is measured by smaps_rollup with the reason.
     *
     * @param procRoot {@code /proc}
     * @param thpSysfs {@code /sys/kernel/mm/transparent_hugepage}, for hpage_pmd_size
     */
    public static GuestMemoryMonitor open(
            Path procRoot,
            Path thpSysfs,
            long pageSizeBytes,
            PassBudget budget,
            GuestMemoryMethod method,
            Clock clock) {
        ByteBuffer pfnScratch = ByteBuffer.allocateDirect(PFN_SCRATCH_BYTES);
        String noFrames = null;
        PfnTable flags = null;
        PfnTable counts = null;
        if (method == GuestMemoryMethod.AUTO || method == GuestMemoryMethod.PAGEMAP) {
            try {
                if (!ProcessStatus.read(procRoot, "self").effectiveCapSysAdmin()) {
                    noFrames = "memhygiene lacks CAP_SYS_ADMIN, so pagemap shows no page frames"
                            + " (Documentation/admin-guide/mm/pagemap.rst)";
                } else {
                    flags = PfnTable.openFlags(procRoot, pfnScratch);
                }
            } catch (ProcMemException e) {
                noFrames = "cannot read " + e.getMessage();
            }
            if (flags != null) {
                try {
                    counts = PfnTable.openCounts(procRoot, pfnScratch);
                } catch (ProcMemException e) {
                    // KSM sharers stay unknown; every other state is still measured.
                }
            }
        }
        Optional<String> noScan = method == GuestMemoryMethod.AUTO || method == GuestMemoryMethod.PAGEMAP_SCAN
                ? PagemapScanner.unsupportedReason(procRoot)
                : Optional.of("not asked for");
        boolean scan = noScan.isEmpty();
        int pmdPages = pmdPages(thpSysfs, pageSizeBytes);
        PageClassifier classifier = flags == null ? null : new PageClassifier(flags, counts, pageSizeBytes, pmdPages);
        String unavailable = switch (method) {
            case SMAPS_ROLLUP -> "guest_memory.method is smaps_rollup";
            case PAGEMAP -> noFrames;
            case PAGEMAP_SCAN -> noScan.orElse(null);
            case AUTO -> scan || classifier != null ? null : noScan.get() + "; " + noFrames;
        };
        GuestMemoryPass.Tools tools = new GuestMemoryPass.Tools(
                scan && method != GuestMemoryMethod.PAGEMAP,
                classifier,
                unavailable,
                new long[CHUNK_PAGES],
                ByteBuffer.allocateDirect(CHUNK_PAGES * 8),
                new PagemapScanner.Regions(SCAN_REGIONS),
                procRoot,
                pageSizeBytes,
                pmdPages,
                clock,
                new GuestRamLocator(procRoot),
                new ProcessKsmReader(procRoot));
        return new GuestMemoryMonitor(budget, tools, flags, counts, clock);
    }

    /** Why pages are not measured for any VM (every VM falls back to smaps_rollup); empty when they are. */
    public Optional<String> pagemapUnavailable() {
        return tools.usable() ? Optional.empty() : Optional.ofNullable(tools.unavailableReason());
    }

    /** How this monitor measures a VM whose guest RAM it finds: a page method, or smaps_rollup. */
    public GuestMemory.Method method() {
        return tools.usable() ? tools.method() : GuestMemory.Method.SMAPS_ROLLUP;
    }

    /**
     * Asks for a fresh pass of {@code vmName} before the others' (a scrub was asked or seen, its memory
     * moved). Thread-safe: the API's threads ask, the sampling thread measures.
     */
    public void refreshSoon(String vmName, String why) {
        asked.put(vmName, why);
    }

    /**
     * One sample: forgets VMs no longer listed (or whose QEMU process changed), works on the passes within
     * the budget, and returns every listed VM's latest completed measurement (VMs whose first pass has not
     * completed yet are left out).
     */
    public Map<String, GuestMemory> sample(Collection<GuestMemoryTarget> targets) {
        samples++;
        Map<String, GuestMemoryTarget> wanted = new HashMap<>();
        for (GuestMemoryTarget target : targets) {
            wanted.put(target.vmName(), target);
        }
        passes.entrySet().removeIf(e -> {
            GuestMemoryTarget target = wanted.get(e.getKey());
            GuestMemoryPass pass = e.getValue().pass;
            boolean stale = target == null || target.pid() != pass.pid() || target.ramBytes() != pass.ramBytes();
            if (stale) {
                pass.close();
            }
            return stale;
        });
        for (GuestMemoryTarget target : targets) {
            Entry entry = passes.computeIfAbsent(
                    target.vmName(), n -> new Entry(new GuestMemoryPass(target.pid(), target.ramBytes())));
            noticeRssChange(entry, target);
        }
        for (Map.Entry<String, String> ask : asked.entrySet()) {
            Entry entry = passes.get(ask.getKey());
            if (entry != null) {
                ask(entry);
            }
            asked.remove(ask.getKey(), ask.getValue());
        }
        work();
        Map<String, GuestMemory> latest = new HashMap<>();
        passes.forEach((name, entry) -> entry.pass.latest().ifPresent(m -> latest.put(name, m)));
        return latest;
    }

    /** How far the VM's current pass has come, 0 to 1; empty for a VM this monitor does not know. */
    public OptionalDouble progress(String vmName) {
        Entry entry = passes.get(vmName);
        if (entry == null) {
            return OptionalDouble.empty();
        }
        long total = entry.pass.pagesInPass(tools.pageSizeBytes());
        return OptionalDouble.of(total == 0 ? 0 : (double) entry.pass.pagesRead() / total);
    }

    /** Whether {@code vmName} is to be measured before the others now. */
    public boolean asked(String vmName) {
        Entry entry = passes.get(vmName);
        return entry != null && entry.askedAt >= 0;
    }

    private void ask(Entry entry) {
        if (entry.askedAt < 0) {
            entry.askedAt = samples;
        }
        entry.followUps = FOLLOW_UP_PASSES;
    }

    private void noticeRssChange(Entry entry, GuestMemoryTarget target) {
        if (target.rssBytes().isEmpty()) {
            return;
        }
        long rss = target.rssBytes().getAsLong();
        if (entry.lastRssBytes.isPresent()
                && Math.abs(rss - entry.lastRssBytes.getAsLong()) >= threshold(target.ramBytes())) {
            ask(entry);
            entry.lastRssBytes = OptionalLong.of(rss);
        } else if (entry.lastRssBytes.isEmpty()) {
            entry.lastRssBytes = OptionalLong.of(rss);
        }
    }

    private static long threshold(long ramBytes) {
        return Math.max(MIN_CHANGE_BYTES, ramBytes / CHANGE_DIVISOR);
    }

    private void work() {
        if (passes.isEmpty()) {
            return;
        }
        long perSample = budget.maxPerSample().toNanos();
        timeCreditNanos = Math.min(timeCreditNanos + perSample, perSample);
        if (timeCreditNanos <= 0) {
            return; // paying off a sample that took longer than the budget
        }
        long credit = budget.pagesPerSample();
        long start = System.nanoTime();
        long deadline = start + timeCreditNanos;
        Instant freshUntil = clock.instant().minus(budget.minRefresh());
        order.clear();
        order.addAll(passes.values());
        order.sort(ORDER);
        boolean[] completed = {false};
        // Each VM at most once per sample, in priority order, until the budget is spent.
        for (Entry entry : order) {
            if (credit <= 0 || System.nanoTime() >= deadline) {
                break;
            }
            GuestMemoryPass pass = entry.pass;
            if (entry.askedAt < 0
                    && !pass.underWay()
                    && pass.latest()
                            .map(m -> m.measuredAt().isAfter(freshUntil))
                            .orElse(false)) {
                continue; // measured recently and nothing asked for more
            }
            completed[0] = false;
            Optional<GuestMemory> before = pass.latest();
            credit -= pass.step(credit, deadline, tools, completed);
            if (!completed[0]) {
                break;
            }
            followUp(entry, before, pass.latest());
        }
        timeCreditNanos -= System.nanoTime() - start;
    }

    /**
     * After an asked-for pass: the VM stays first for one more pass (right after a scrub KSM may not have
     * merged anything yet), and then while its reclaimed memory moved since the pass before (KSM still
     * merging what the scrub zeroed), for at most {@link #FOLLOW_UP_PASSES} passes.
     */
    private void followUp(Entry entry, Optional<GuestMemory> before, Optional<GuestMemory> after) {
        if (entry.askedAt < 0) {
            return;
        }
        OptionalLong was = before.map(GuestMemory::reclaimedPages).orElse(OptionalLong.empty());
        OptionalLong now = after.map(GuestMemory::reclaimedPages).orElse(OptionalLong.empty());
        boolean moving = was.isPresent()
                && now.isPresent()
                && Math.abs(now.getAsLong() - was.getAsLong()) * tools.pageSizeBytes()
                        >= threshold(entry.pass.ramBytes());
        entry.followUps--;
        if (!moving && entry.followUps < FOLLOW_UP_PASSES - 1 || entry.followUps <= 0) {
            entry.askedAt = -1;
        } else {
            entry.askedAt = samples; // behind other VMs asked for meanwhile
        }
    }

    private static int pmdPages(Path thpSysfs, long pageSizeBytes) {
        try {
            long pmdBytes = Long.parseLong(
                    Files.readString(thpSysfs.resolve("hpage_pmd_size")).strip());
            if (pmdBytes >= pageSizeBytes && pmdBytes % pageSizeBytes == 0) {
                return (int) (pmdBytes / pageSizeBytes);
            }
        } catch (IOException | NumberFormatException e) {
            // No THP in this kernel: a PMD still maps one page table page's worth of pages.
        }
        return (int) (pageSizeBytes / Long.BYTES);
    }

    @Override
    public void close() {
        passes.values().forEach(e -> e.pass.close());
        passes.clear();
        if (flags != null) {
            flags.close();
        }
        if (counts != null) {
            counts.close();
        }
    }
}
