package org.memhygiene.agent.scrub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.memhygiene.agent.scrub.ProcTree.GIB;
import static org.memhygiene.agent.scrub.ProcTree.MIB;

import org.junit.jupiter.api.Test;
import org.memhygiene.core.linux.LinuxMemory;

class ScrubConfigTest {
    private final ScrubConfig defaults = ScrubConfig.defaults();

    @Test
    void defaultsAreTheDocumentedOnes() {
        assertEquals(64 * MIB, defaults.chunkBytes());
        assertEquals(4 * MIB, defaults.stepBytes());
        assertEquals(256 * MIB, defaults.minHeadroomBytes());
        assertEquals(10, defaults.headroomPercentOfTotal());
        assertEquals(10.0, defaults.pressureThresholdPercent());
        assertEquals(256 * MIB, defaults.maxRateBytesPerSecond());
        assertEquals(19, defaults.nice());
        assertEquals(ScrubConfig.FaultMethod.POPULATE_WRITE, defaults.faultMethod());
        assertEquals(0, defaults.periodicIntervalMillis());
        assertEquals(0, defaults.largeFreeThresholdBytes());
        assertEquals(5000, defaults.largeFreeSampleMillis());
        assertEquals(Long.MAX_VALUE, defaults.triggeredMaxBytes());
    }

    @Test
    void headroomIsTheLargerOfTheFloorAndTheShareOfMemTotal() {
        assertEquals(256 * MIB, defaults.headroomBytes(GIB), "small guest: the 256 MiB floor");
        assertEquals(24 * GIB / 100 * 10, defaults.headroomBytes(24 * GIB), "large guest: 10 %");
        assertEquals(300 * MIB, defaults.withHeadroom(300 * MIB, 0).headroomBytes(24 * GIB), "fixed headroom");
    }

    @Test
    void badValuesNameTheFieldTheValueAndWhatWasExpected() {
        long page = LinuxMemory.pageSizeBytes();
        assertEquals(
                "chunk_bytes = " + (page + 1) + ": expected a positive multiple of the page size (" + page + " bytes)",
                message(() -> defaults.withChunkBytes(page + 1, page)));
        assertEquals(
                "chunk_bytes = " + 2 * GIB + ": expected at most 1073741824 (1 GiB)",
                message(() -> defaults.withChunkBytes(2 * GIB, MIB)));
        assertEquals(
                "step_bytes = " + 128 * MIB + ": expected at most chunk_bytes (" + 64 * MIB + ")",
                message(() -> defaults.withChunkBytes(64 * MIB, 128 * MIB)));
        assertEquals(
                "min_headroom_bytes = 0: expected at least 33554432 (32 MiB)",
                message(() -> defaults.withHeadroom(0, 10)));
        assertEquals(
                "headroom_percent_of_total = 95: expected a percentage in [0, 90]",
                message(() -> defaults.withHeadroom(256 * MIB, 95)));
        assertEquals(
                "pressure_threshold_percent = 0.0: expected a percentage in (0, 100]",
                message(() -> defaults.withPressureThreshold(0)));
        assertEquals(
                "pressure_threshold_percent = NaN: expected a percentage in (0, 100]",
                message(() -> defaults.withPressureThreshold(Double.NaN)));
        assertEquals(
                "max_rate_bytes_per_second = -1: expected 0 (no cap) or a positive rate",
                message(() -> defaults.withMaxRate(-1)));
        assertEquals(
                "fault_method = null: expected POPULATE_WRITE or TOUCH_EACH_PAGE",
                message(() -> defaults.withFaultMethod(null)));
        assertEquals(
                "periodic_interval_millis = -5: expected 0 (off) or a positive interval",
                message(() -> defaults.withPeriodic(-5, GIB)));
        assertEquals(
                "triggered_max_bytes = 0: expected a positive size", message(() -> defaults.withPeriodic(1000, 0)));
        assertEquals(
                "large_free_threshold_bytes = -1: expected 0 (off) or a positive size",
                message(() -> defaults.withLargeFree(-1, 1000, GIB)));
        assertEquals(
                "large_free_sample_millis = 0: expected a positive interval",
                message(() -> defaults.withLargeFree(GIB, 0, GIB)));
        assertEquals(
                "nice = 20: expected a nice value in [-20, 19]",
                message(() -> new ScrubConfig(
                        64 * MIB,
                        4 * MIB,
                        256 * MIB,
                        10,
                        10.0,
                        0,
                        20,
                        ScrubConfig.FaultMethod.POPULATE_WRITE,
                        0,
                        0,
                        5000,
                        GIB)));
    }

    private static String message(Runnable construction) {
        return assertThrows(IllegalArgumentException.class, construction::run).getMessage();
    }
}
