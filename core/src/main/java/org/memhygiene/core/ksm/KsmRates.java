package org.memhygiene.core.ksm;

import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * How fast KSM works between two samples. A rate is absent when either sample lacks its counter, or
 * when a monotonic counter went backwards (the kernel was reset, or the samples are out of order).
 *
 * @param elapsedSeconds          monotonic time between the samples
 * @param pagesMergedPerSecond    change of saved pages (pages_sharing + ksm_zero_pages) per second;
 *                                negative when merges are broken (copy-on-write, unmerge) faster than made
 * @param fullScansPerMinute      full_scans per minute
 * @param pagesScannedPerSecond   pages_scanned per second (kernel 6.7+; absent before)
 */
public record KsmRates(
        double elapsedSeconds,
        OptionalDouble pagesMergedPerSecond,
        OptionalDouble fullScansPerMinute,
        OptionalDouble pagesScannedPerSecond) {

    public static KsmRates between(KsmSample earlier, KsmSample later) {
        double seconds = (later.monotonicNanos() - earlier.monotonicNanos()) / 1e9;
        if (seconds <= 0) {
            throw new IllegalArgumentException("samples must be in time order, " + seconds + " s apart");
        }
        KsmStats a = earlier.stats();
        KsmStats b = later.stats();
        OptionalDouble merged = OptionalDouble.empty();
        if (a.pagesSharing().isPresent() && b.pagesSharing().isPresent()) {
            long before = a.pagesSharing().getAsLong() + a.ksmZeroPages().orElse(0);
            long after = b.pagesSharing().getAsLong() + b.ksmZeroPages().orElse(0);
            merged = OptionalDouble.of((after - before) / seconds);
        }
        return new KsmRates(
                seconds,
                merged,
                monotonicRate(a.fullScans(), b.fullScans(), seconds / 60),
                monotonicRate(a.pagesScanned(), b.pagesScanned(), seconds));
    }

    private static OptionalDouble monotonicRate(OptionalLong before, OptionalLong after, double per) {
        if (before.isEmpty() || after.isEmpty() || after.getAsLong() < before.getAsLong()) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of((after.getAsLong() - before.getAsLong()) / per);
    }
}
