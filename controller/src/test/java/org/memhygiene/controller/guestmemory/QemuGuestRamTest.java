package org.memhygiene.controller.guestmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.ProcessStatus;

/**
 * Real QEMU processes (qemu-system-x86_64, stopped before the guest runs: {@code -S}, TCG): the locator
 * finds guest RAM for the backends libvirt uses — QEMU's default RAM, memory-backend-memfd, and one
 * memory-backend-ram per NUMA node — and a pass measures it. QEMU is ready when its QMP monitor greets.
 */
class QemuGuestRamTest {
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    private static final long RAM_BYTES = 96L * 1024 * 1024;
    private static final long PAGE = LinuxMemory.pageSizeBytes();

    @Test
    void defaultRamIsOneAnonymousMapping() throws Exception {
        GuestRamLayout layout = locateIn(List.of("-m", "96"));
        assertEquals(1, layout.regions().size());
        assertEquals(GuestRamRegion.Backing.ANONYMOUS, layout.regions().get(0).backing());
        assertEquals("one mapping of the domain's 96 MiB", layout.howFound());
    }

    @Test
    void memfdBackendIsASharedMemfdMapping() throws Exception {
        GuestRamLayout layout = locateIn(List.of(
                "-object", "memory-backend-memfd,id=ram,size=96M", "-machine", "memory-backend=ram", "-m", "96"));
        assertEquals(GuestRamRegion.Backing.MEMFD, layout.regions().get(0).backing());
        assertTrue(layout.regions().get(0).shared());
        // QEMU names the memfd after the backend's type.
        assertEquals(
                "/memfd:memory-backend-memfd (deleted)", layout.regions().get(0).path());
    }

    @Test
    void numaNodesAreOneMappingPerBackend() throws Exception {
        GuestRamLayout layout = locateIn(List.of(
                "-object",
                "memory-backend-ram,id=m0,size=64M",
                "-object",
                "memory-backend-ram,id=m1,size=32M",
                "-numa",
                "node,nodeid=0,memdev=m0",
                "-numa",
                "node,nodeid=1,memdev=m1",
                "-m",
                "96"));
        assertEquals(
                List.of(64L << 20, 32L << 20),
                layout.regions().stream()
                        .map(GuestRamRegion::sizeBytes)
                        .sorted((a, b) -> Long.compare(b, a))
                        .toList());
        assertTrue(layout.howFound().startsWith("2 mappings with QEMU's RAM-block VmFlags"), layout.howFound());
    }

    /** Starts QEMU with {@code memory}, locates its guest RAM, measures it with a whole pass, stops it. */
    private static GuestRamLayout locateIn(List<String> memory) throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(QEMU), "skipped: needs " + QEMU + " (qemu-system-x86; .ci/run installs it)");
        Assumptions.assumeTrue(
                ProcessStatus.read(GuestMemoryMonitorTest.PROC, "self").effectiveCapSysAdmin(),
                "skipped: pagemap shows PFNs only to CAP_SYS_ADMIN");
        List<String> command = new ArrayList<>(List.of(
                QEMU.toString(),
                "-S",
                "-display",
                "none",
                "-nodefaults",
                "-serial",
                "none",
                "-monitor",
                "none",
                "-accel",
                "tcg,tb-size=16",
                "-machine",
                "pc",
                "-qmp",
                "stdio"));
        command.addAll(memory);
        Process qemu = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader qmp =
                    new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8));
            String greeting = qmp.readLine();
            assertTrue(greeting != null && greeting.startsWith("{\"QMP\""), "QEMU did not start: " + greeting);
            // The greeting can come before the machine (and its RAM) exists; QEMU answers a command only from its
            // main loop, after the machine is built: the answer to query-status is the event to wait for.
            Writer commands = new OutputStreamWriter(qemu.getOutputStream(), StandardCharsets.UTF_8);
            commands.write("{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-status\"}\n");
            commands.flush();
            String status = null;
            for (int answers = 0; answers < 2; ) {
                String line = qmp.readLine();
                assertTrue(
                        line != null, "QEMU closed its QMP stream before answering qmp_capabilities and query-status");
                if (line.contains("\"return\"")) { // events may come between the answers
                    answers++;
                    status = line;
                }
            }
            assertTrue(status.contains("prelaunch") || status.contains("paused"), "QEMU's status: " + status);
            int pid = (int) qemu.pid();
            GuestRamLocator.Located located = new GuestRamLocator(GuestMemoryMonitorTest.PROC).locate(pid, RAM_BYTES);
            GuestRamLayout layout = located.layout().orElseThrow(() -> new AssertionError(located.explanation()));
            assertEquals(RAM_BYTES, layout.sizeBytes());
            try (GuestMemoryMonitor monitor = GuestMemoryMonitor.open(
                    GuestMemoryMonitorTest.PROC,
                    GuestMemoryMonitorTest.THP,
                    PAGE,
                    PassBudget.wholePass(),
                    Clock.systemUTC())) {
                GuestMemory measured = monitor.sample(List.of(new GuestMemoryTarget("qemu", pid, RAM_BYTES)))
                        .get("qemu");
                assertTrue(measured.method().pageStates() && measured.reason().isEmpty(), measured.methodDescription());
                assertEquals(RAM_BYTES / PAGE, measured.guestRamPages());
                GuestMemory.Pages p = measured.pages();
                assertEquals(
                        measured.guestRamPages(),
                        p.resident().getAsLong()
                                + p.ksm().getAsLong()
                                + p.zero().getAsLong()
                                + p.hugeZero().getAsLong()
                                + p.swapped().getAsLong()
                                + p.notPresent().getAsLong(),
                        measured.toString());
                assertTrue(
                        measured.rssPages().getAsLong()
                                <= measured.processRssPages().getAsLong(),
                        measured.toString());
            }
            return layout;
        } finally {
            qemu.destroy();
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
