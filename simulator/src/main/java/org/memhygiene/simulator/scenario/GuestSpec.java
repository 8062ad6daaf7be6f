package org.memhygiene.simulator.scenario;

import java.time.Duration;
import java.util.Optional;
import org.memhygiene.core.host.PostureLevel;

/**
 * One guest of a scenario (docs/SIMULATOR.md, "guests"). Fractions are of the guest's memory.
 *
 * @param startAt when the VM starts (boots); empty: it stays shut off until a start event
 * @param kernel  the guest kernel's release (what its agent reports in guest.kernel.version)
 */
public record GuestSpec(
        String name,
        String uuid,
        String image,
        long memoryBytes,
        int vcpus,
        PostureLevel posture,
        boolean noSharePages,
        int numaNode,
        Optional<Duration> startAt,
        Duration boot,
        Layout layout,
        Sharing sharing,
        FreeMemory freeMemory,
        Churn churn,
        Hygiene hygiene,
        boolean balloon,
        int balloonStatsPeriodSeconds,
        String kernel) {

    /**
     * In-use memory by page class, in pages (the file gives fractions of the guest's memory or page
     * counts); the rest of the guest's memory, after the content groups' pages, is free.
     */
    public record Layout(int osImagePages, int pageCachePages, int anonPages, int zeroPages, int secretPages) {
        public long inUsePages() {
            return (long) osImagePages + pageCachePages + anonPages + zeroPages + secretPages;
        }
    }

    /**
     * A share of some pages: a fraction of them (drawn page by page, so about that many), or an exact
     * count ({@code pages} ≥ 0).
     */
    public record Portion(double fraction, long pages) {
        public static Portion fraction(double fraction) {
            return new Portion(fraction, -1);
        }

        public static Portion pages(long pages) {
            return new Portion(0, pages);
        }

        public boolean exact() {
            return pages >= 0;
        }

        /** The share as a fraction of {@code total} pages. */
        public double of(long total) {
            return !exact() ? fraction : total == 0 ? 0 : Math.min(1, (double) pages / total);
        }
    }

    /**
     * Pages of each class identical across all guests of the same image: a fraction (which pages, a
     * hash of the page's index all guests agree on) or a count (the class's first pages).
     */
    public record Sharing(Portion osImage, Portion pageCache, Portion secret) {}

    /**
     * What the free memory holds after boot: {@code stale} of it was used and freed (old data; of that,
     * {@code staleSecret} was secret), {@code zero} holds zeroes, the rest was never touched. Fractions
     * are drawn page by page; with a page count anywhere the counts are exact (fractions then stand for
     * that share of the free pages, rounded).
     */
    public record FreeMemory(Portion stale, Portion staleSecret, Portion zero) {
        public boolean exact() {
            return stale.exact() || staleSecret.exact() || zero.exact();
        }
    }

    /** Pages written per second in each class (0 = idle). */
    public record Churn(
            double anonPerSecond, double pageCachePerSecond, double secretPerSecond, double osImagePerSecond) {
        public static final Churn IDLE = new Churn(0, 0, 0, 0);
    }

    /**
     * @param agent whether the memhygiene agent runs in the guest (an agent channel exists)
     */
    public record Hygiene(HygieneMode mode, boolean agent, Scrub scrub, FreePageReporting freePageReporting) {}

    /**
     * The agent's scrub policy (docs/SCRUBBING.md).
     *
     * @param maxBytes            at most this much per scrub; 0 = all free memory above the headroom
     * @param interval            periodic scrubs; zero = none
     * @param largeFreeThresholdBytes a fall in used memory at least this large starts a scrub; 0 = off
     */
    public record Scrub(
            long rateBytesPerSecond,
            long minHeadroomBytes,
            int headroomPercent,
            Duration interval,
            long largeFreeThresholdBytes,
            long maxBytes) {}

    /** Free page reporting: blocks of 2^order pages, reported {@code delay} after they became free. */
    public record FreePageReporting(int order, Duration delay) {}
}
