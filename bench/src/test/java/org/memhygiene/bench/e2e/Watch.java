package org.memhygiene.bench.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Polls the host once a second while the kernel reclaims: per guest its QEMU RSS and ksm_stat, globally
 * KSM's scans and ksmd's CPU. A guest "reaches" when its QEMU RSS has fallen, from its level when its
 * memory was full, by the target fraction of what it freed; the watch records the time and the full
 * scans that took.
 */
final class Watch {
    static final Duration POLL = Duration.ofSeconds(1);
    /** The fraction of what a guest freed that must be back for it to "reach": 90 %. */
    static final double RECLAIM_TARGET = 0.90;

    /** A guest under watch: its RSS when full and the bytes it freed. */
    record Subject(Guest guest, long filledRssBytes, long freedBytes) {
        long reclaimedBytes(HostMeters.ProcessSample s) {
            return filledRssBytes - s.rssBytes();
        }
    }

    /** When a subject reached the target: millis since the watch began and full scans since then. */
    record Reached(long millis, long fullScans) {}

    /**
     * @param agedFullScans the full scans that completed while smart_scan was on (both polls around them
     *                      read 1): the ones that aged unmerged pages (should_skip_rmap_item() in mm/ksm.c
     *                      ages a page only then); on a kernel without smart_scan, every full scan
     */
    record Outcome(
            HostMeters.HostSample start,
            HostMeters.HostSample end,
            Map<String, HostMeters.ProcessSample> first,
            Map<String, HostMeters.ProcessSample> last,
            Map<String, Reached> reached,
            long millis,
            long agedFullScans) {
        long fullScans() {
            return end.fullScans() - start.fullScans();
        }

        long pagesScanned() {
            return end.pagesScanned() - start.pagesScanned();
        }

        long ksmdCpuMillis() {
            return end.ksmdCpuMillis() - start.ksmdCpuMillis();
        }
    }

    private Watch() {}

    /**
     * Watches until every subject reached {@code fraction} of its freed bytes and {@code extraScans} more
     * full scans passed (0: stop at once), or {@code maxFullScans} full scans or {@code maxTime} passed.
     * {@code fraction} ≤ 0 never reaches: the watch then runs for maxFullScans (or maxTime).
     */
    static Outcome run(
            HostMeters meters,
            List<Subject> subjects,
            double fraction,
            long maxFullScans,
            Duration maxTime,
            long extraScans)
            throws InterruptedException {
        return run(
                meters,
                subjects,
                fraction,
                0,
                maxFullScans,
                maxTime,
                extraScans,
                subjects.stream().map(s -> s.guest().name).toList());
    }

    /**
     * As above, but the watch waits only for the subjects named in {@code waitFor} to reach, and lasts at
     * least {@code minAgedFullScans} full scans that aged unmerged pages ({@link Outcome#agedFullScans}).
     */
    static Outcome run(
            HostMeters meters,
            List<Subject> subjects,
            double fraction,
            long minAgedFullScans,
            long maxFullScans,
            Duration maxTime,
            long extraScans,
            List<String> waitFor)
            throws InterruptedException {
        HostMeters.HostSample start = meters.host();
        long began = System.nanoTime();
        Map<String, HostMeters.ProcessSample> first = new LinkedHashMap<>();
        Map<String, HostMeters.ProcessSample> last = new LinkedHashMap<>();
        Map<String, Reached> reached = new LinkedHashMap<>();
        for (Subject s : subjects) {
            first.put(s.guest().name, s.guest().sample());
        }
        HostMeters.HostSample now = start;
        long aged = 0;
        Long allReachedAtScans = null;
        while (true) {
            HostMeters.HostSample previous = now;
            now = meters.host();
            if (now.fullScans() < previous.fullScans()) {
                // Only run=2 resets full_scans, and the suite does not write it during a watch.
                throw new IllegalStateException(
                        "KSM disturbed by another process during the watch: full_scans fell from "
                                + previous.fullScans() + " to " + now.fullScans() + " (run=2 was written)");
            }
            long scans = now.fullScans() - start.fullScans();
            if (previous.smartScan() != 0 && now.smartScan() != 0) {
                aged += now.fullScans() - previous.fullScans();
            }
            long millis = (System.nanoTime() - began) / 1_000_000;
            for (Subject s : subjects) {
                HostMeters.ProcessSample p = s.guest().sample();
                last.put(s.guest().name, p);
                if (fraction > 0
                        && !reached.containsKey(s.guest().name)
                        && s.reclaimedBytes(p) >= fraction * s.freedBytes()) {
                    reached.put(s.guest().name, new Reached(millis, scans));
                }
            }
            if (allReachedAtScans == null && fraction > 0 && reached.keySet().containsAll(waitFor)) {
                allReachedAtScans = scans;
            }
            if ((allReachedAtScans != null && scans >= allReachedAtScans + extraScans && aged >= minAgedFullScans)
                    || scans >= maxFullScans
                    || millis >= maxTime.toMillis()) {
                return new Outcome(start, now, first, last, reached, millis, aged);
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    static List<Subject> subjects(List<Guest> guests, Map<String, Long> filledRss, Map<String, Long> freed) {
        List<Subject> list = new ArrayList<>();
        for (Guest g : guests) {
            list.add(new Subject(g, filledRss.get(g.name), freed.get(g.name)));
        }
        return list;
    }
}
