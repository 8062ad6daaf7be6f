package org.memhygiene.core.ksm;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One reading of every file under /sys/kernel/mm/ksm, as documented in
 * https://docs.kernel.org/admin-guide/mm/ksm.html. A file the running kernel lacks is
 * {@code OptionalLong.empty()} (absent), never 0: older kernels have no ksm_zero_pages (6.6),
 * general_profit (6.4), smart_scan and pages_skipped (6.7) or advisor_* (6.8).
 *
 * @param unknownFiles    files present that this version does not model (e.g. RHEL's
 *                        redhat_only_zero_pages), by name, with their trimmed text
 * @param unreadableFiles files present but unreadable or malformed, by name, with the reason
 */
public record KsmStats(
        // Counters, maintained by ksmd.
        OptionalLong pagesShared,
        OptionalLong pagesSharing,
        OptionalLong pagesUnshared,
        OptionalLong pagesVolatile,
        OptionalLong pagesScanned,
        OptionalLong pagesSkipped,
        OptionalLong fullScans,
        OptionalLong ksmZeroPages,
        OptionalLong generalProfitBytes,
        OptionalLong stableNodeChains,
        OptionalLong stableNodeDups,
        // Knobs, writable by root.
        OptionalLong run,
        OptionalLong pagesToScan,
        OptionalLong sleepMillisecs,
        OptionalLong maxPageSharing,
        OptionalLong mergeAcrossNodes,
        OptionalLong useZeroPages,
        OptionalLong smartScan,
        OptionalLong stableNodeChainsPruneMillisecs,
        Optional<String> advisorMode,
        OptionalLong advisorMaxCpuPercent,
        OptionalLong advisorMinPagesToScan,
        OptionalLong advisorMaxPagesToScan,
        OptionalLong advisorTargetScanTimeSeconds,
        Map<String, String> unknownFiles,
        Map<String, String> unreadableFiles) {

    public KsmStats {
        unknownFiles = Map.copyOf(unknownFiles);
        unreadableFiles = Map.copyOf(unreadableFiles);
    }

    /** True when ksmd is set to scan (run=1). */
    public boolean merging() {
        return run.isPresent() && run.getAsLong() == KsmKnob.RUN_MERGE;
    }
}
