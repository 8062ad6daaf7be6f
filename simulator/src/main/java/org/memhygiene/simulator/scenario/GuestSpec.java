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

    /** In-use memory by page class; the rest of the guest's memory is free. */
    public record Layout(double osImage, double pageCache, double anon, double zero, double secret) {
        public double inUse() {
            return osImage + pageCache + anon + zero + secret;
        }
    }

    /** Share of each class's pages that are identical across all guests of the same image. */
    public record Sharing(double osImage, double pageCache, double secret) {
    }

    /**
     * What the free memory holds after boot: {@code stale} of it was used and freed (old data; of that,
     * {@code staleSecret} was secret), {@code zero} holds zeroes, the rest was never touched.
     */
    public record FreeMemory(double stale, double staleSecret, double zero) {
    }

    /** Pages written per second in each class (0 = idle). */
    public record Churn(double anonPerSecond, double pageCachePerSecond, double secretPerSecond, double osImagePerSecond) {
        public static final Churn IDLE = new Churn(0, 0, 0, 0);
    }

    /**
     * @param agent whether the memhygiene agent runs in the guest (an agent channel exists)
     */
    public record Hygiene(HygieneMode mode, boolean agent, Scrub scrub, FreePageReporting freePageReporting) {
    }

    /**
     * The agent's scrub policy (docs/SCRUBBING.md).
     *
     * @param maxBytes            at most this much per scrub; 0 = all free memory above the headroom
     * @param interval            periodic scrubs; zero = none
     * @param largeFreeThresholdBytes a fall in used memory at least this large starts a scrub; 0 = off
     */
    public record Scrub(long rateBytesPerSecond, long minHeadroomBytes, int headroomPercent, Duration interval,
            long largeFreeThresholdBytes, long maxBytes) {
    }

    /** Free page reporting: blocks of 2^order pages, reported {@code delay} after they became free. */
    public record FreePageReporting(int order, Duration delay) {
    }
}
