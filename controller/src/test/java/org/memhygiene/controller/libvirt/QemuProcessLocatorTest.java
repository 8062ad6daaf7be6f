package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.ksm.ProcessKsmReader;

/**
 * Against a real process on this machine: a bash whose command line carries QEMU's
 * {@code -name guest=testvm,debug-threads=on}, as libvirt starts QEMU.
 */
class QemuProcessLocatorTest {
    private static final Path PROC = ProcessKsmReader.DEFAULT_ROOT;
    private static Process fakeQemu;
    private static int fakePid;

    @BeforeAll
    static void startFakeQemu() throws Exception {
        // bash -c 'read' keeps bash itself alive (no exec of a child), blocked on our stdin pipe;
        // "-name" becomes $0 and the guest argument $1, both kept in /proc/PID/cmdline.
        fakeQemu = new ProcessBuilder("bash", "-c", "read -r _", "-name", "guest=testvm,debug-threads=on").start();
        fakePid = Math.toIntExact(fakeQemu.pid());
        Instant deadline = Instant.now().plus(Duration.ofSeconds(5));
        // cmdline holds the final argv only once bash has been exec'd.
        while (!cmdline(fakePid).contains("guest=testvm") && Instant.now().isBefore(deadline)) {
            Thread.sleep(5);
        }
    }

    @AfterAll
    static void stopFakeQemu() throws Exception {
        fakeQemu.destroy();
        fakeQemu.waitFor();
    }

    @Test
    void findsTheProcessFromItsPidFile(@TempDir Path pidDir) throws IOException {
        Files.writeString(pidDir.resolve("testvm.pid"), fakePid + "\n");
        assertEquals(OptionalInt.of(fakePid), new QemuProcessLocator(pidDir, PROC).find("testvm"));
    }

    @Test
    void scansProcWhenThePidFileIsMissingOrStale(@TempDir Path pidDir) throws IOException {
        QemuProcessLocator locator = new QemuProcessLocator(pidDir, PROC);
        assertEquals(OptionalInt.of(fakePid), locator.find("testvm"), "no pid file");
        // A stale pid file naming a live process that is not this domain's QEMU (the JVM itself).
        Files.writeString(
                pidDir.resolve("testvm.pid"),
                Long.toString(ProcessHandle.current().pid()));
        assertEquals(OptionalInt.of(fakePid), locator.find("testvm"), "stale pid file");
        Files.writeString(pidDir.resolve("testvm.pid"), "garbage");
        assertEquals(OptionalInt.of(fakePid), locator.find("testvm"), "half-written pid file");
    }

    @Test
    void matchesTheWholeGuestName(@TempDir Path pidDir) {
        QemuProcessLocator locator = new QemuProcessLocator(pidDir, PROC);
        assertEquals(OptionalInt.empty(), locator.find("test"));
        assertEquals(OptionalInt.empty(), locator.find("testvm2"));
        assertTrue(locator.isQemuOf(fakePid, "testvm"));
        assertFalse(locator.isQemuOf(fakePid, "testvm,debug-threads=on"), "a comma in a name is doubled by libvirt");
    }

    @Test
    void readsTheDomainsKsmStat(@TempDir Path pidDir) throws IOException {
        Assumptions.assumeTrue(
                Files.exists(PROC.resolve("self/ksm_stat")), "this kernel has no /proc/PID/ksm_stat (Linux 6.1+)");
        Files.writeString(pidDir.resolve("testvm.pid"), Integer.toString(fakePid));
        DomainKsmReader reader = new DomainKsmReader(new QemuProcessLocator(pidDir, PROC), new ProcessKsmReader(PROC));
        DomainKsm ksm = reader.read("testvm").orElseThrow();
        assertEquals("testvm", ksm.domainName());
        assertEquals(fakePid, ksm.pid());
        assertEquals("bash", ksm.stat().name());
        // bash never madvises MERGEABLE: KSM tracks nothing of it, and says so rather than leaving it absent.
        assertEquals(0, ksm.stat().mergingPages().orElseThrow());
        assertEquals(0, ksm.stat().zeroPages().orElseThrow());
        assertTrue(ksm.stat().processProfitBytes().isPresent());
        assertEquals(Optional.empty(), reader.read("not-running"));
    }

    @Test
    void pidDirectoryFollowsTheUri() {
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", "/run/user/1000");
        assertEquals(Optional.of(Path.of("/run/libvirt/qemu")), QemuProcessLocator.pidDirFor("qemu:///system", env));
        assertEquals(
                Optional.of(Path.of("/run/user/1000/libvirt/qemu/run")),
                QemuProcessLocator.pidDirFor("qemu:///session", env));
        assertEquals(Optional.empty(), QemuProcessLocator.pidDirFor("qemu:///session", Map.of()));
        assertEquals(Optional.empty(), QemuProcessLocator.pidDirFor("qemu+ssh://host/system", env));
        assertEquals(Optional.empty(), QemuProcessLocator.pidDirFor("test:///default", env));
    }

    private static String cmdline(int pid) throws IOException {
        return new String(Files.readAllBytes(PROC.resolve(pid + "/cmdline")), StandardCharsets.UTF_8);
    }
}
