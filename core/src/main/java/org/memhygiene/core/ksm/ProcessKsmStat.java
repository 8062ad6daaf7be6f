package org.memhygiene.core.ksm;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * One process's KSM figures, from /proc/PID/ksm_stat (kernel 6.1+) or, on 5.19-6.0, from
 * /proc/PID/ksm_merging_pages alone. Fields the kernel does not print are absent.
 *
 * @param name               the process name (/proc/PID/comm)
 * @param rmapItems          ksm_rmap_items: pages ksmd tracks for this process (each costs 64 bytes)
 * @param zeroPages          ksm_zero_pages: pages merged with the kernel's zero page (use_zero_pages=1)
 * @param mergingPages       ksm_merging_pages: pages of this process mapped to a KSM page
 * @param processProfitBytes ksm_process_profit, as the kernel computes it
 * @param mergeAny           ksm_merge_any: the whole process was made mergeable (prctl PR_SET_MEMORY_MERGE)
 * @param mergeable          ksm_mergeable: the process has any mergeable area
 */
public record ProcessKsmStat(
        int pid,
        String name,
        OptionalLong rmapItems,
        OptionalLong zeroPages,
        OptionalLong mergingPages,
        OptionalLong processProfitBytes,
        Optional<Boolean> mergeAny,
        Optional<Boolean> mergeable) {

    /** Pages this process saves: merged pages plus pages merged with the zero page. */
    public long savedPages() {
        return mergingPages.orElse(0) + zeroPages.orElse(0);
    }

    public ProcessKsmStat withName(String newName) {
        return new ProcessKsmStat(
                pid, newName, rmapItems, zeroPages, mergingPages, processProfitBytes, mergeAny, mergeable);
    }
}
