package org.memhygiene.controller.policy;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmStats;

/** The figures policies derive from host samples; pure functions, no I/O. */
final class HostFigures {
    private HostFigures() {}

    /** ksmtuned's "free": MemFree + Buffers + Cached. */
    static long freeBytes(HostMemory memory) {
        return memory.memFreeBytes() + memory.buffersBytes() + memory.cachedBytes();
    }

    /** MemAvailable, or ksmtuned's free (MemFree + Buffers + Cached) on a kernel without it (before 3.14). */
    static long availableBytes(HostMemory memory) {
        return memory.memAvailableBytes().orElse(freeBytes(memory));
    }

    /**
     * Memory the guests hold now, as ksmtuned counts it (the RSS of the QEMU processes): per domain with
     * a QEMU process, the QEMU RSS from its balloon statistics (libvirt's rss) when present, else its
     * current memory (the balloon target, what the guest may touch).
     */
    static long committedRssBytes(HostSnapshot snapshot) {
        long sum = 0;
        for (VmSnapshot vm : snapshot.vms()) {
            if (vm.domain().state().hasQemuProcess()) {
                sum += vm.domain().balloonStats().rssBytes().orElse(vm.domain().currentMemoryBytes());
            }
        }
        return sum;
    }

    /** Memory the guests may use: the sum of current memory (balloon targets) of domains with a QEMU process. */
    static long committedCurrentBytes(HostSnapshot snapshot) {
        long sum = 0;
        for (VmSnapshot vm : snapshot.vms()) {
            if (vm.domain().state().hasQemuProcess()) {
                sum += vm.domain().currentMemoryBytes();
            }
        }
        return sum;
    }

    /** What happened between two samples; each figure absent when it cannot be measured, with why. */
    record Interval(
            double seconds,
            OptionalLong pagesScanned,
            OptionalLong pagesMerged,
            long fullScans,
            OptionalDouble ksmdCpuPercent,
            String unmeasuredYield) {

        /** Merged pages per scanned page, when at least {@code minPagesScanned} pages were scanned. */
        OptionalDouble yield(long minPagesScanned) {
            if (pagesScanned.isEmpty()
                    || pagesMerged.isEmpty()
                    || pagesScanned.getAsLong() < minPagesScanned
                    || pagesScanned.getAsLong() == 0) {
                return OptionalDouble.empty();
            }
            return OptionalDouble.of((double) pagesMerged.getAsLong() / pagesScanned.getAsLong());
        }
    }

    /**
     * The interval between {@code previous} and {@code current}: pages scanned (Δpages_scanned, kernel
     * 6.7+), pages newly merged (Δ(pages_sharing + ksm_zero_pages)), full scans completed, and ksmd's CPU
     * as a percentage of one core (ΔksmdCpuMillis / Δwall time). Empty when there is no usable previous
     * sample with KSM.
     */
    static Optional<Interval> between(Optional<HostSnapshot> previous, HostSnapshot current) {
        if (previous.isEmpty()
                || previous.get().ksm().isEmpty()
                || current.ksm().isEmpty()) {
            return Optional.empty();
        }
        KsmSample a = previous.get().ksm().get();
        KsmSample b = current.ksm().get();
        double seconds = (b.monotonicNanos() - a.monotonicNanos()) / 1e9;
        if (seconds <= 0) {
            seconds = Duration.between(previous.get().sampledAt(), current.sampledAt())
                            .toNanos()
                    / 1e9;
        }
        if (seconds <= 0) {
            return Optional.empty();
        }
        KsmStats x = a.stats();
        KsmStats y = b.stats();
        OptionalLong scanned = OptionalLong.empty();
        OptionalLong merged = OptionalLong.empty();
        String why = "";
        if (!x.merging() || !y.merging()) {
            why = "ksmd was not running (run=1) for the whole interval";
        } else if (x.pagesScanned().isEmpty() || y.pagesScanned().isEmpty()) {
            why = "this kernel has no pages_scanned (Linux 6.7+)";
        } else if (y.pagesScanned().getAsLong() < x.pagesScanned().getAsLong()) {
            why = "pages_scanned went backwards";
        } else if (x.pagesSharing().isEmpty() || y.pagesSharing().isEmpty()) {
            why = "pages_sharing is unreadable";
        } else {
            scanned = OptionalLong.of(
                    y.pagesScanned().getAsLong() - x.pagesScanned().getAsLong());
            merged = OptionalLong.of(saved(y) - saved(x));
        }
        long fullScans = x.fullScans().isPresent() && y.fullScans().isPresent()
                ? Math.max(0, y.fullScans().getAsLong() - x.fullScans().getAsLong())
                : 0;
        OptionalDouble cpu = OptionalDouble.empty();
        OptionalLong cpuBefore = previous.get().ksmdCpuMillis();
        OptionalLong cpuAfter = current.ksmdCpuMillis();
        if (cpuBefore.isPresent() && cpuAfter.isPresent() && cpuAfter.getAsLong() >= cpuBefore.getAsLong()) {
            cpu = OptionalDouble.of(100.0 * (cpuAfter.getAsLong() - cpuBefore.getAsLong()) / (seconds * 1000));
        }
        return Optional.of(new Interval(seconds, scanned, merged, fullScans, cpu, why));
    }

    /** Pages KSM saves: pages_sharing + ksm_zero_pages (a kernel without ksm_zero_pages counts none). */
    static long saved(KsmStats stats) {
        return stats.pagesSharing().orElse(0) + stats.ksmZeroPages().orElse(0);
    }

    static String percent(double value) {
        return String.format(Locale.ROOT, value < 10 ? "%.1f%%" : "%.0f%%", value);
    }

    static String ratio(double value) {
        return String.format(Locale.ROOT, Math.abs(value) < 0.01 && value != 0 ? "%.4f" : "%.2f", value);
    }
}
