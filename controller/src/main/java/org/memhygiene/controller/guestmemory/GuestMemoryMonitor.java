package org.memhygiene.controller.guestmemory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.procmem.PfnTable;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.ProcessStatus;

/**
 * Measures the guest RAM of every running VM, page by page, a little per sample: each {@link #sample}
 * classifies at most {@link PassBudget#pagesPerSample()} pages in all (and stops at
 * {@link PassBudget#maxPerSample()}), one VM after the other — the VM whose pass is under way first, then
 * the next with what is left — so each VM's figure comes from a pass of a few samples, and the figures
 * are refreshed every (pages of all VMs) / (pages per sample) samples. A VM's latest completed pass stays
 * its figure, with its time, until the next completes. docs/RECLAIM.md defines the states.
 * <p>
 * Never throws from {@link #sample}: a VM that cannot be measured by pagemap gets a smaps_rollup
 * measurement with the reason. Holds no lock shared with anything else (the kernel takes each QEMU
 * process's mmap lock for reading, 2 MiB of address space at a time, while pagemap is read). Not
 * thread-safe: call it from one thread, e.g. the sampler's.
 */
public final class GuestMemoryMonitor implements AutoCloseable {
    /**
     * Pages read per pagemap syscall and classified at a time (32 KiB of entries): small enough that the
     * time a sample may run over its budget, at most about one chunk, stays a fraction of it.
     */
    static final int CHUNK_PAGES = 4096;
    private static final int PFN_SCRATCH_BYTES = 32 * 1024;

    private final PassBudget budget;
    private final GuestMemoryPass.Tools tools;
    private final PfnTable flags;
    private final PfnTable counts;
    private final LinkedHashMap<String, GuestMemoryPass> passes = new LinkedHashMap<>();
    private String current;
    private long creditPages;

    private GuestMemoryMonitor(PassBudget budget, GuestMemoryPass.Tools tools, PfnTable flags, PfnTable counts) {
        this.budget = budget;
        this.tools = tools;
        this.flags = flags;
        this.counts = counts;
    }

    /**
     * Opens /proc/kpageflags and /proc/kpagecount once. When this process cannot use pagemap (no
     * CAP_SYS_ADMIN, kpageflags unreadable), every VM is measured by smaps_rollup with that reason.
     *
     * @param procRoot  {@code /proc}
     * @param thpSysfs  {@code /sys/kernel/mm/transparent_hugepage}, for hpage_pmd_size
     */
    public static GuestMemoryMonitor open(Path procRoot, Path thpSysfs, long pageSizeBytes, PassBudget budget, Clock clock) {
        ByteBuffer pfnScratch = ByteBuffer.allocateDirect(PFN_SCRATCH_BYTES);
        String unavailable = null;
        PfnTable flags = null;
        PfnTable counts = null;
        try {
            if (!ProcessStatus.read(procRoot, "self").effectiveCapSysAdmin()) {
                unavailable = "memhygiene lacks CAP_SYS_ADMIN, so pagemap shows no page frames"
                        + " (Documentation/admin-guide/mm/pagemap.rst)";
            } else {
                flags = PfnTable.openFlags(procRoot, pfnScratch);
            }
        } catch (ProcMemException e) {
            unavailable = "cannot read " + e.getMessage();
        }
        if (flags != null) {
            try {
                counts = PfnTable.openCounts(procRoot, pfnScratch);
            } catch (ProcMemException e) {
                // KSM sharers stay unknown; every other state is still measured.
            }
        }
        PageClassifier classifier = flags == null ? null
                : new PageClassifier(flags, counts, pageSizeBytes, pmdPages(thpSysfs, pageSizeBytes));
        GuestMemoryPass.Tools tools = new GuestMemoryPass.Tools(classifier, unavailable, new long[CHUNK_PAGES],
                ByteBuffer.allocateDirect(CHUNK_PAGES * 8), procRoot, pageSizeBytes, clock, new GuestRamLocator(procRoot),
                new ProcessKsmReader(procRoot));
        return new GuestMemoryMonitor(budget, tools, flags, counts);
    }

    /** Why pagemap is not used for any VM; empty when it is. */
    public Optional<String> pagemapUnavailable() {
        return Optional.ofNullable(tools.unavailableReason());
    }

    /**
     * One sample: forgets VMs no longer listed (or whose QEMU process changed), works on the passes within
     * the budget, and returns every listed VM's latest completed measurement (VMs whose first pass has not
     * completed yet are left out).
     */
    public Map<String, GuestMemory> sample(Collection<GuestMemoryTarget> targets) {
        Map<String, GuestMemoryTarget> wanted = new LinkedHashMap<>();
        for (GuestMemoryTarget target : targets) {
            wanted.put(target.vmName(), target);
        }
        passes.entrySet().removeIf(e -> {
            GuestMemoryTarget target = wanted.get(e.getKey());
            boolean stale = target == null || target.pid() != e.getValue().pid() || target.ramBytes() != e.getValue().ramBytes();
            if (stale) {
                e.getValue().close();
            }
            return stale;
        });
        wanted.forEach((name, target) -> passes.computeIfAbsent(name, n -> new GuestMemoryPass(target.pid(), target.ramBytes())));
        work();
        Map<String, GuestMemory> latest = new HashMap<>();
        passes.forEach((name, pass) -> pass.latest().ifPresent(m -> latest.put(name, m)));
        return latest;
    }

    /** How far the VM's current pass has come, 0 to 1; empty for a VM this monitor does not know. */
    public OptionalDouble progress(String vmName) {
        GuestMemoryPass pass = passes.get(vmName);
        if (pass == null) {
            return OptionalDouble.empty();
        }
        long total = pass.pagesInPass(tools.pageSizeBytes());
        return OptionalDouble.of(total == 0 ? 0 : (double) pass.pagesRead() / total);
    }

    private void work() {
        creditPages = Math.min(creditPages + budget.pagesPerSample(), budget.pagesPerSample());
        if (passes.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + budget.maxPerSample().toNanos();
        List<String> order = new ArrayList<>(passes.keySet());
        int first = Math.max(0, order.indexOf(current));
        // Each VM at most once per sample, starting with the one whose pass is under way.
        for (int k = 0; k < order.size() && creditPages > 0 && System.nanoTime() < deadline; k++) {
            String name = order.get((first + k) % order.size());
            boolean[] completed = {false};
            creditPages -= passes.get(name).step(creditPages, deadline, tools, completed);
            current = completed[0] ? order.get((first + k + 1) % order.size()) : name;
            if (!completed[0]) {
                break;
            }
        }
    }

    private static int pmdPages(Path thpSysfs, long pageSizeBytes) {
        try {
            long pmdBytes = Long.parseLong(Files.readString(thpSysfs.resolve("hpage_pmd_size")).strip());
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
        passes.values().forEach(GuestMemoryPass::close);
        passes.clear();
        if (flags != null) {
            flags.close();
        }
        if (counts != null) {
            counts.close();
        }
    }
}
