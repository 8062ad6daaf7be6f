package org.memhygiene.agent.scrub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.agent.scrub.ProcTree.GIB;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProcMemoryTest {
    @TempDir
    Path temporary;

    @Test
    void readsTheRealProc() {
        ProcMemory proc = new ProcMemory(Path.of("/proc"));
        MemInfo memory = proc.memInfo();
        assertTrue(
                memory.memTotalBytes() > 0 && memory.memAvailableBytes() <= memory.memTotalBytes(), memory.toString());
        assertTrue(memory.memTotalBytes() % 1024 == 0);
        if (Files.exists(Path.of("/proc/pressure/memory"))) {
            assertTrue(proc.memorySomeAvg10Percent().isPresent());
        }
    }

    @Test
    void meminfoIsParsedInBytes() {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 6 * GIB);
        assertEquals(new MemInfo(8 * GIB, 6 * GIB), new ProcMemory(tree.root).memInfo());
    }

    @Test
    void aBadMeminfoLineIsNamed() {
        ProcTree tree = new ProcTree(temporary);
        tree.write("meminfo", "MemTotal: 12 MB\nMemFree: 1 kB\nMemAvailable: 1 kB\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ProcMemory(tree.root).memInfo());
        assertEquals(
                tree.root.resolve("meminfo") + ": expected \"MemTotal: N kB\", got \"MemTotal: 12 MB\"",
                e.getMessage());
    }

    @Test
    void pressureIsSomeAvg10AndAbsentWithoutPsi() throws Exception {
        ProcTree tree = new ProcTree(temporary).pressure(12.34);
        ProcMemory proc = new ProcMemory(tree.root);
        assertEquals(OptionalDouble.of(12.34), proc.memorySomeAvg10Percent());
        Files.delete(tree.root.resolve("pressure/memory"));
        assertEquals(OptionalDouble.empty(), proc.memorySomeAvg10Percent());
        tree.write("pressure/memory", "full avg10=1.00\n");
        assertThrows(IllegalStateException.class, proc::memorySomeAvg10Percent);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "quiet                                    | false",
                "init_on_free=1                           | true",
                "init_on_free=on quiet                    | true",
                "init_on_free=Y                           | true",
                "init_on_free=off                         | false",
                "init_on_free=1 init_on_free=0            | false",
                "init_on_free=0 init_on_free=1            | true",
                "init_on_free=1 init_on_free=bogus        | true",
                "init_on_alloc=1                          | false",
                "quiet -- init_on_free=1                  | false"
            })
    void initOnFreeFollowsTheKernelsParsing(String cmdline, boolean expected) {
        ProcTree tree = new ProcTree(temporary).cmdline(cmdline);
        assertEquals(expected, new ProcMemory(tree.root).initOnFree(), cmdline);
    }

    @Test
    void noCmdlineMeansInitOnFreeIsUnknownAndTreatedAsOff() throws Exception {
        ProcTree tree = new ProcTree(temporary);
        Files.delete(tree.root.resolve("cmdline"));
        assertFalse(new ProcMemory(tree.root).initOnFree());
    }
}
