package org.memhygiene.controller.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.linux.LinuxThread;

class HostProcTest {
    @TempDir
    Path proc;

    @Test
    void readsMeminfoPressureAndKsmdFromATreeOfItsOwn() throws Exception {
        Files.writeString(proc.resolve("meminfo"), """
                MemTotal:       16384000 kB
                MemFree:         1000000 kB
                MemAvailable:    8000000 kB
                Buffers:           20000 kB
                Cached:          3000000 kB
                SwapTotal:       2000000 kB
                SwapFree:        1500000 kB
                """);
        Files.createDirectories(proc.resolve("pressure"));
        Files.writeString(
                proc.resolve("pressure/memory"),
                "some avg10=1.25 avg60=0.50 avg300=0.10 total=12345\n"
                        + "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        Files.createDirectories(proc.resolve("42"));
        Files.writeString(proc.resolve("42/comm"), "ksmd\n");
        // utime 150 and stime 50 ticks (fields 14 and 15); a comm with a space and ")" must not shift them.
        Files.writeString(
                proc.resolve("42/stat"), "42 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 150 50 0 0 25 5 1 0 100 0 0\n");
        Files.createDirectories(proc.resolve("7"));
        Files.writeString(proc.resolve("7/comm"), "bash\n");

        HostProc host = new HostProc(proc, 100);
        assertEquals(
                new HostMemory(
                        16384000L * 1024,
                        1000000L * 1024,
                        OptionalLong.of(8000000L * 1024),
                        20000L * 1024,
                        3000000L * 1024,
                        2000000L * 1024,
                        1500000L * 1024,
                        OptionalDouble.of(1.25)),
                host.memory());
        assertEquals(OptionalLong.of(2000), host.ksmdCpuMillis(), "200 ticks at 100 Hz");
    }

    @Test
    void noPsiAndNoKsmdAreAbsentNotZero() throws Exception {
        Files.writeString(
                proc.resolve("meminfo"),
                "MemTotal: 1000 kB\nMemFree: 10 kB\nBuffers: 0 kB\nCached: 0 kB\n"
                        + "SwapTotal: 0 kB\nSwapFree: 0 kB\n");
        HostProc host = new HostProc(proc, 100);
        assertEquals(OptionalDouble.empty(), host.memory().pressureSomeAvg10Percent());
        assertEquals(OptionalLong.empty(), host.memory().memAvailableBytes());
        assertEquals(OptionalLong.empty(), host.ksmdCpuMillis());
    }

    @Test
    void theRealKsmdOnThisMachine() {
        HostProc host = new HostProc(Path.of("/proc"), LinuxThread.clockTicksPerSecond());
        assertTrue(host.memory().memTotalBytes() > 0);
        if (Files.isDirectory(Path.of("/sys/kernel/mm/ksm"))) {
            assertTrue(host.ksmdCpuMillis().isPresent(), "a kernel with KSM runs ksmd");
        } else {
            System.out.println("HostProcTest.theRealKsmdOnThisMachine: no KSM here, ksmd not checked");
        }
    }
}
