package org.memhygiene.agent.scrub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one safety rule of the scrubber and the canary, on a prepared /proc tree: memory pressure cannot be
 * produced on demand on a shared machine, and an exact MemAvailable makes the boundary testable.
 */
class SafetyLimitsTest {
    private static final long MIB = ProcTree.MIB;

    @TempDir
    Path dir;

    @Test
    void whatMayBeTakenStopsAtTheHeadroom() {
        // MemTotal 8 GiB: the headroom is max(256 MiB, 10 % = 819 MiB) = 819 MiB; 1000 MiB available.
        SafetyLimits limits =
                new SafetyLimits(new ProcMemory(new ProcTree(dir).meminfo(8 * ProcTree.GIB, 1000 * MIB).root));
        ScrubConfig config = ScrubConfig.defaults();
        long headroom = config.headroomBytes(8 * ProcTree.GIB);
        assertNull(limits.crossed(config, 1000 * MIB - headroom), "exactly down to the headroom is allowed");
        SafetyLimits.Crossed crossed = limits.crossed(config, 1000 * MIB - headroom + 1);
        assertEquals(SafetyLimits.Limit.HEADROOM, crossed.limit());
        assertEquals("MemAvailable 1000 MiB less 180 MiB would fall under the headroom of 819 MiB", crossed.reason());
        assertEquals(
                "MemAvailable 1000 MiB fell under the headroom of 1024 MiB",
                limits.crossed(config.withHeadroom(1024 * MIB, 0), 0).reason(),
                "the scrubber's own wording");
    }

    @Test
    void nothingIsTakenUnderPressure() {
        ProcTree tree = new ProcTree(dir).meminfo(8 * ProcTree.GIB, 4 * ProcTree.GIB);
        SafetyLimits limits = new SafetyLimits(new ProcMemory(tree.root));
        assertNull(limits.crossed(ScrubConfig.defaults(), MIB));
        tree.pressure(12.5);
        SafetyLimits.Crossed crossed = limits.crossed(ScrubConfig.defaults(), MIB);
        assertEquals(SafetyLimits.Limit.PRESSURE, crossed.limit());
        assertEquals("memory pressure some avg10=12.50% passed the threshold of 10.00%", crossed.reason());
    }
}
