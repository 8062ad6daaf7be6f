package org.memhygiene.agent.scrub;

import java.util.Locale;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;

/**
 * How the scrubber zeroes free memory and when it must stop. See docs/SCRUBBING.md for the reasons
 * behind each limit. {@link #defaults()} gives the documented defaults; the {@code with…} methods change
 * one setting at a time. Byte sizes that the scrubber maps must be whole pages of the running system.
 *
 * @param chunkBytes               size of each anonymous mapping the scrub fills (default 64 MiB);
 *                                 every chunk is held until the scrub ends, so the kernel cannot hand the
 *                                 same free pages back twice
 * @param stepBytes                bytes faulted in between two safety checks (default 4 MiB)
 * @param minHeadroomBytes         MemAvailable the scrub always leaves to the guest (default 256 MiB)
 * @param headroomPercentOfTotal   headroom as a share of MemTotal, in percent (default 10); the headroom
 *                                 is the larger of this and {@code minHeadroomBytes}
 * @param pressureThresholdPercent the scrub stops when /proc/pressure/memory "some avg10" exceeds this
 *                                 (default 10.0 %)
 * @param maxRateBytesPerSecond    average zeroing rate cap; 0 means no cap (default 256 MiB/s)
 * @param nice                     nice value of the scrubbing thread (default 19, the lowest priority)
 * @param faultMethod              how pages are faulted in (default {@link FaultMethod#POPULATE_WRITE})
 * @param periodicIntervalMillis   interval between periodic scrubs; 0 turns periodic scrubs off (default 0)
 * @param largeFreeThresholdBytes  a fall in used memory (MemTotal − MemAvailable) of at least this much
 *                                 between two samples starts a scrub; 0 turns this off (default 0)
 * @param largeFreeSampleMillis    interval between those samples (default 5000 ms)
 * @param triggeredMaxBytes        maxBytes of scrubs that the periodic and after-a-large-free modes start
 *                                 (default {@link Long#MAX_VALUE}: as much as the headroom allows)
 */
public record ScrubConfig(
        long chunkBytes,
        long stepBytes,
        long minHeadroomBytes,
        int headroomPercentOfTotal,
        double pressureThresholdPercent,
        long maxRateBytesPerSecond,
        int nice,
        FaultMethod faultMethod,
        long periodicIntervalMillis,
        long largeFreeThresholdBytes,
        long largeFreeSampleMillis,
        long triggeredMaxBytes) {

    static final long MIB = 1024L * 1024L;
    /** A headroom below this would let a scrub run the guest into reclaim; no configuration may go lower. */
    public static final long HEADROOM_FLOOR_BYTES = 32 * MIB;
    /** Chunks are read and written as Java buffers, which index with an int. */
    public static final long MAX_CHUNK_BYTES = 1024 * MIB;

    /** How the scrubber faults a step of a chunk in. */
    public enum FaultMethod {
        /**
         * One madvise(MADV_POPULATE_WRITE) per step (Linux 5.14): the kernel write-faults every page
         * without a round trip to user space per page. Falls back to {@link #TOUCH_EACH_PAGE} on kernels
         * that answer EINVAL.
         */
        POPULATE_WRITE,
        /** One byte written to each page from Java, as a C loop would. */
        TOUCH_EACH_PAGE
    }

    public ScrubConfig {
        long page = LinuxMemory.pageSizeBytes();
        requireWholePages("chunkBytes", chunkBytes, page);
        if (chunkBytes > MAX_CHUNK_BYTES) {
            throw invalid("chunkBytes", chunkBytes, "at most " + MAX_CHUNK_BYTES + " (1 GiB)");
        }
        requireWholePages("stepBytes", stepBytes, page);
        if (stepBytes > chunkBytes) {
            throw invalid("stepBytes", stepBytes, "at most chunk_bytes (" + chunkBytes + ")");
        }
        if (minHeadroomBytes < HEADROOM_FLOOR_BYTES) {
            throw invalid("minHeadroomBytes", minHeadroomBytes, "at least " + HEADROOM_FLOOR_BYTES + " (32 MiB)");
        }
        if (headroomPercentOfTotal < 0 || headroomPercentOfTotal > 90) {
            throw invalid("headroomPercentOfTotal", headroomPercentOfTotal, "a percentage in [0, 90]");
        }
        if (!(pressureThresholdPercent > 0 && pressureThresholdPercent <= 100)) {
            throw invalid("pressureThresholdPercent", pressureThresholdPercent, "a percentage in (0, 100]");
        }
        if (maxRateBytesPerSecond < 0) {
            throw invalid("maxRateBytesPerSecond", maxRateBytesPerSecond, "0 (no cap) or a positive rate");
        }
        if (nice < LinuxThread.NICE_MIN || nice > LinuxThread.NICE_MAX) {
            throw invalid("nice", nice, "a nice value in [" + LinuxThread.NICE_MIN + ", " + LinuxThread.NICE_MAX + "]");
        }
        if (faultMethod == null) {
            throw invalid("faultMethod", null, "POPULATE_WRITE or TOUCH_EACH_PAGE");
        }
        if (periodicIntervalMillis < 0) {
            throw invalid("periodicIntervalMillis", periodicIntervalMillis, "0 (off) or a positive interval");
        }
        if (largeFreeThresholdBytes < 0) {
            throw invalid("largeFreeThresholdBytes", largeFreeThresholdBytes, "0 (off) or a positive size");
        }
        if (largeFreeSampleMillis <= 0) {
            throw invalid("largeFreeSampleMillis", largeFreeSampleMillis, "a positive interval");
        }
        if (triggeredMaxBytes <= 0) {
            throw invalid("triggeredMaxBytes", triggeredMaxBytes, "a positive size");
        }
    }

    /** The documented defaults. */
    public static ScrubConfig defaults() {
        return new ScrubConfig(
                64 * MIB,
                4 * MIB,
                256 * MIB,
                10,
                10.0,
                256 * MIB,
                LinuxThread.NICE_MAX,
                FaultMethod.POPULATE_WRITE,
                0,
                0,
                5000,
                Long.MAX_VALUE);
    }

    /** The headroom for a guest of {@code memTotalBytes}: max(minHeadroomBytes, headroomPercentOfTotal % of it). */
    public long headroomBytes(long memTotalBytes) {
        return Math.max(minHeadroomBytes, memTotalBytes / 100 * headroomPercentOfTotal);
    }

    public ScrubConfig withChunkBytes(long chunk, long step) {
        return new ScrubConfig(
                chunk,
                step,
                minHeadroomBytes,
                headroomPercentOfTotal,
                pressureThresholdPercent,
                maxRateBytesPerSecond,
                nice,
                faultMethod,
                periodicIntervalMillis,
                largeFreeThresholdBytes,
                largeFreeSampleMillis,
                triggeredMaxBytes);
    }

    public ScrubConfig withHeadroom(long minBytes, int percentOfTotal) {
        return new ScrubConfig(
                chunkBytes,
                stepBytes,
                minBytes,
                percentOfTotal,
                pressureThresholdPercent,
                maxRateBytesPerSecond,
                nice,
                faultMethod,
                periodicIntervalMillis,
                largeFreeThresholdBytes,
                largeFreeSampleMillis,
                triggeredMaxBytes);
    }

    public ScrubConfig withPressureThreshold(double someAvg10Percent) {
        return new ScrubConfig(
                chunkBytes,
                stepBytes,
                minHeadroomBytes,
                headroomPercentOfTotal,
                someAvg10Percent,
                maxRateBytesPerSecond,
                nice,
                faultMethod,
                periodicIntervalMillis,
                largeFreeThresholdBytes,
                largeFreeSampleMillis,
                triggeredMaxBytes);
    }

    public ScrubConfig withMaxRate(long bytesPerSecond) {
        return new ScrubConfig(
                chunkBytes,
                stepBytes,
                minHeadroomBytes,
                headroomPercentOfTotal,
                pressureThresholdPercent,
                bytesPerSecond,
                nice,
                faultMethod,
                periodicIntervalMillis,
                largeFreeThresholdBytes,
                largeFreeSampleMillis,
                triggeredMaxBytes);
    }

    public ScrubConfig withFaultMethod(FaultMethod method) {
        return new ScrubConfig(
                chunkBytes,
                stepBytes,
                minHeadroomBytes,
                headroomPercentOfTotal,
                pressureThresholdPercent,
                maxRateBytesPerSecond,
                nice,
                method,
                periodicIntervalMillis,
                largeFreeThresholdBytes,
                largeFreeSampleMillis,
                triggeredMaxBytes);
    }

    public ScrubConfig withPeriodic(long intervalMillis, long maxBytesPerScrub) {
        return new ScrubConfig(
                chunkBytes,
                stepBytes,
                minHeadroomBytes,
                headroomPercentOfTotal,
                pressureThresholdPercent,
                maxRateBytesPerSecond,
                nice,
                faultMethod,
                intervalMillis,
                largeFreeThresholdBytes,
                largeFreeSampleMillis,
                maxBytesPerScrub);
    }

    public ScrubConfig withLargeFree(long thresholdBytes, long sampleMillis, long maxBytesPerScrub) {
        return new ScrubConfig(
                chunkBytes,
                stepBytes,
                minHeadroomBytes,
                headroomPercentOfTotal,
                pressureThresholdPercent,
                maxRateBytesPerSecond,
                nice,
                faultMethod,
                periodicIntervalMillis,
                thresholdBytes,
                sampleMillis,
                maxBytesPerScrub);
    }

    private static void requireWholePages(String field, long value, long pageBytes) {
        if (value < pageBytes || value % pageBytes != 0) {
            throw invalid(field, value, "a positive multiple of the page size (" + pageBytes + " bytes)");
        }
    }

    /** Names the field as agent.yaml and the protocol's set-policy spell it (snake_case). */
    private static IllegalArgumentException invalid(String field, Object value, String expected) {
        String name = field.replaceAll("([A-Z])", "_$1").toLowerCase(Locale.ROOT);
        return new IllegalArgumentException(name + " = " + value + ": expected " + expected);
    }
}
