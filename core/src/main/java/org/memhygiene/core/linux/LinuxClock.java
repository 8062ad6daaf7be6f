package org.memhygiene.core.linux;

import com.sun.jna.LastErrorException;

/** The clock behind System.nanoTime on Linux: HotSpot reads clock_gettime(CLOCK_MONOTONIC). */
public final class LinuxClock {
    /** CLOCK_MONOTONIC from https://github.com/torvalds/linux/blob/master/include/uapi/linux/time.h. */
    static final int CLOCK_MONOTONIC = 1;

    private LinuxClock() {}

    /** clock_getres(CLOCK_MONOTONIC): 1 ns with high-resolution timers, a tick (e.g. 4 ms) without. */
    public static long monotonicResolutionNanos() {
        long[] timespec = new long[2];
        try {
            LibC.INSTANCE.clock_getres(CLOCK_MONOTONIC, timespec);
        } catch (LastErrorException e) {
            throw new NativeCallException("clock_getres", e.getErrorCode(), "CLOCK_MONOTONIC");
        }
        return timespec[0] * 1_000_000_000L + timespec[1];
    }
}
