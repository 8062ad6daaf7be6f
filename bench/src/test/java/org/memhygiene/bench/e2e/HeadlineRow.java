package org.memhygiene.bench.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One row of the results' headline table: what a guest freed and what its QEMU process gave back to
 * the host over one watch. {@code reached} is null when the watch ended before the guest reached
 * {@link Watch#RECLAIM_TARGET}.
 */
record HeadlineRow(
        String mode,
        String guest,
        long freedBytes,
        long reclaimedBytes,
        long ksmAccountedBytes,
        Watch.Reached reached,
        long watchMillis,
        long fullScans,
        long pagesScanned,
        long guestCpuMillis) {

    /**
     * One row per guest: reclaimed is the QEMU RSS drop from its level when the guest was full to the
     * end of the watch; KSM-accounted the change of its ksm_stat over the watch; full scans and pages
     * scanned from {@code start} (host-wide) to the end of the watch; guest CPU between the two readings.
     */
    static List<HeadlineRow> of(
            String mode,
            List<Guest> guests,
            Map<String, Long> freed,
            Map<String, Long> filledRss,
            Watch.Outcome w,
            HostMeters.HostSample start,
            Map<String, Long> cpuBefore,
            Map<String, Long> cpuAfter) {
        List<HeadlineRow> rows = new ArrayList<>();
        for (Guest g : guests) {
            long reclaimed = filledRss.get(g.name) - w.last().get(g.name).rssBytes();
            long ksmPart =
                    w.last().get(g.name).ksmSavedBytes() - w.first().get(g.name).ksmSavedBytes();
            rows.add(new HeadlineRow(
                    mode,
                    g.name,
                    freed.get(g.name),
                    reclaimed,
                    ksmPart,
                    w.reached().get(g.name),
                    w.millis(),
                    w.end().fullScans() - start.fullScans(),
                    w.end().pagesScanned() - start.pagesScanned(),
                    cpuAfter.get(g.name) - cpuBefore.get(g.name)));
        }
        return rows;
    }
}
