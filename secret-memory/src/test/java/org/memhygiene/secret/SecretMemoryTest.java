package org.memhygiene.agent.secret;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.secret.SecretMemory.Backing;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.SelfMaps;

/** Both backings on this machine's kernel, observed through /proc/self. */
class SecretMemoryTest {
    private static final byte[] KEY = "correct horse battery staple, 32".getBytes(StandardCharsets.US_ASCII);
    private final long page = LinuxMemory.pageSizeBytes();

    @TempDir
    Path temporary;

    private static SecretMemory memfdSecretOrSkip(long sizeBytes) {
        SecretMemory secret = new SecretMemory(sizeBytes);
        if (secret.backing() != Backing.MEMFD_SECRET) {
            secret.close();
            assumeTrue(false, "memfd_secret refused here: " + secret.memfdSecretRefusal().orElse("?"));
        }
        return secret;
    }

    @Test
    void lockedAnonymousIsLockedUndumpableAndWipedInAChild() throws IOException {
        long vmLckBefore = SelfMaps.statusKib("VmLck");
        try (SecretMemory secret = new SecretMemory(3 * page + 1, Backing.LOCKED_ANONYMOUS)) {
            assertEquals(Backing.LOCKED_ANONYMOUS, secret.backing());
            assertTrue(secret.memfdSecretRefusal().isEmpty(), "memfd_secret was not even tried");
            assertEquals(4 * page, secret.dataBytes(), "rounded up to whole pages");
            assertEquals(vmLckBefore + 4 * page / 1024, SelfMaps.statusKib("VmLck"), "VmLck rises by the data pages");
            List<String> flags = SelfMaps.vmFlags(secret.dataAddress());
            assertTrue(flags.containsAll(List.of("dd", "wf", "lo")), "VmFlags " + flags);
        }
        assertEquals(vmLckBefore, SelfMaps.statusKib("VmLck"), "closing unlocks");
    }

    @Test
    void memfdSecretIsLockedUndumpableAndNotInherited() throws IOException {
        long vmLckBefore = SelfMaps.statusKib("VmLck");
        try (SecretMemory secret = memfdSecretOrSkip(page)) {
            assertTrue(secret.fileDescriptor() >= 0);
            assertEquals(vmLckBefore + page / 1024, SelfMaps.statusKib("VmLck"), "secretmem mappings are VM_LOCKED");
            List<String> flags = SelfMaps.vmFlags(secret.dataAddress());
            assertTrue(flags.containsAll(List.of("dd", "dc", "lo", "sh")), "VmFlags " + flags);
            assertTrue(Files.exists(Path.of("/proc/self/fd/" + secret.fileDescriptor())));
            assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + secret.fileDescriptor())).toString()
                    .contains("secretmem"), "the descriptor is a secretmem file");
        }
        assertEquals(vmLckBefore, SelfMaps.statusKib("VmLck"));
    }

    @Test
    void guardPagesFenceTheDataOnBothSides() throws IOException {
        for (Backing backing : Backing.values()) {
            try (SecretMemory secret = new SecretMemory(2 * page, backing)) {
                Pointer data = secret.dataAddress();
                assertEquals("---p", SelfMaps.mapsPermissions(data.share(-1)), backing + ": the page before");
                assertEquals("---p", SelfMaps.mapsPermissions(data.share(secret.dataBytes())), backing + ": the page after");
                assertTrue(SelfMaps.mapsPermissions(data).startsWith("rw-"), backing + ": the data");
            }
        }
    }

    @Test
    void runningOffTheEndFaultsInsteadOfReadingANeighbour() throws Exception {
        Path errorFile = temporary.resolve("hs_err.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process probe = new ProcessBuilder(java, "-Xmx32m", "-XX:ErrorFile=" + errorFile, "-XX:-CreateCoredumpOnCrash",
                "-cp", System.getProperty("java.class.path"), GuardPageProbe.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(probe.waitFor(30, TimeUnit.SECONDS));
        assertTrue(output.contains("read inside: 7"), output);
        assertNotEquals(0, probe.exitValue(), output);
        assertTrue(output.contains("SIGSEGV"), "the JVM died on a fault at the guard page:\n" + output);
        assertFalse(output.contains("read past the end"), output);
    }

    @Test
    void readWriteAndWipe() {
        for (Backing backing : Backing.values()) {
            try (SecretMemory secret = new SecretMemory(KEY.length, backing)) {
                secret.write(0, KEY);
                byte[] back = new byte[KEY.length];
                secret.read(0, back);
                assertArrayEquals(KEY, back, backing.toString());
                secret.wipe();
                secret.read(0, back);
                assertArrayEquals(new byte[KEY.length], back, backing + ": wiped");
                assertThrows(IndexOutOfBoundsException.class, () -> secret.write(1, KEY));
                assertThrows(IndexOutOfBoundsException.class, () -> secret.read(-1, new byte[1]));
            }
        }
    }

    @Test
    void closeZeroesTheSecretSeenThroughASecondMapping() {
        SecretMemory secret = memfdSecretOrSkip(page);
        Pointer view = LinuxMemory.map(null, page, LinuxMemory.PROT_READ, LinuxMemory.MAP_SHARED, secret.fileDescriptor(), 0);
        try {
            secret.write(0, KEY);
            assertArrayEquals(KEY, view.getByteArray(0, KEY.length), "the second mapping shows the same pages");
            secret.close();
            assertArrayEquals(new byte[(int) page], view.getByteArray(0, (int) page), "zeroed by close");
            assertThrows(IllegalStateException.class, () -> secret.read(0, new byte[1]));
            secret.close(); // idempotent
        } finally {
            LinuxMemory.unmap(view, page);
        }
    }

    @Test
    void aForgottenSecretIsZeroedByTheCleaner() throws Exception {
        SecretMemory secret = memfdSecretOrSkip(page);
        Pointer view = LinuxMemory.map(null, page, LinuxMemory.PROT_READ, LinuxMemory.MAP_SHARED, secret.fileDescriptor(), 0);
        try {
            secret.write(0, KEY);
            secret = null; // forgotten without close()
            byte[] zeros = new byte[KEY.length];
            for (int i = 0; i < 200 && !Arrays.equals(zeros, view.getByteArray(0, KEY.length)); i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertArrayEquals(zeros, view.getByteArray(0, KEY.length), "the Cleaner zeroed the secret");
        } finally {
            LinuxMemory.unmap(view, page);
        }
    }

    @Test
    void aForgottenLockedSecretIsReleasedByTheCleaner() throws Exception {
        long vmLckBefore = SelfMaps.statusKib("VmLck");
        new SecretMemory(8 * page, Backing.LOCKED_ANONYMOUS).write(0, KEY);
        assertEquals(vmLckBefore + 8 * page / 1024, SelfMaps.statusKib("VmLck"));
        for (int i = 0; i < 200 && SelfMaps.statusKib("VmLck") != vmLckBefore; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(vmLckBefore, SelfMaps.statusKib("VmLck"), "the Cleaner unmapped the forgotten secret");
    }

    @Test
    void badSizesAreRefused() {
        assertEquals("sizeBytes = 0: expected a positive size",
                assertThrows(IllegalArgumentException.class, () -> new SecretMemory(0)).getMessage());
    }
}
