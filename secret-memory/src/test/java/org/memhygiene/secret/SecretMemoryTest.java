package org.memhygiene.secret;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.SelfMaps;
import org.memhygiene.secret.SecretMemory.Backing;
import org.memhygiene.secret.SecretMemory.Protection;

/** Both backings on this machine's kernel, observed through /proc/self. */
class SecretMemoryTest {
    private static final byte[] KEY = "correct horse battery staple, 32".getBytes(StandardCharsets.US_ASCII);
    private final long page = LinuxMemory.pageSizeBytes();

    @TempDir
    Path temporary;

    /** A memfd_secret-backed secret where the kernel offers one; elsewhere the test is skipped, saying why. */
    private static SecretMemory memfdSecretOrSkip(long sizeBytes) throws IOException {
        if (!KernelSecretmem.offered()) {
            System.out.println("SKIP: memfd_secret is not offered here: " + KernelSecretmem.evidence());
        }
        assumeTrue(KernelSecretmem.offered(), "memfd_secret not offered: " + KernelSecretmem.evidence());
        return new SecretMemory(sizeBytes);
    }

    @Test
    void memfdSecretIsUsedWhereTheKernelOffersItAndTheRefusalIsReportedWhereNot() throws IOException {
        long vmLckBefore = SelfMaps.statusKib("VmLck");
        try (SecretMemory secret = new SecretMemory(page)) {
            Protection protection = secret.protection();
            System.out.println(KernelSecretmem.evidence() + ": " + protection.summary());
            if (KernelSecretmem.offered()) {
                assertEquals(new Protection(Backing.MEMFD_SECRET, page, Optional.empty()), protection);
                assertTrue(
                        protection.summary().startsWith("memfd_secret (outside the kernel's direct map"),
                        protection.summary());
                assertTrue(
                        Files.readSymbolicLink(Path.of("/proc/self/fd/" + secret.fileDescriptor()))
                                .toString()
                                .contains("secretmem"),
                        "the descriptor is a secretmem file");
                assertEquals(
                        vmLckBefore + page / 1024, SelfMaps.statusKib("VmLck"), "secretmem mappings are VM_LOCKED");
                // dd: not dumped; dc: not copied into a child (MADV_DONTFORK); lo: locked; sh: shared.
                List<String> flags = SelfMaps.vmFlags(secret.dataAddress());
                assertTrue(flags.containsAll(List.of("dd", "dc", "lo", "sh")), "VmFlags " + flags);
            } else {
                // The kernel's own refusal (ENOSYS: not built, or secretmem.enable=0), then the fallback.
                assertEquals(Backing.LOCKED_ANONYMOUS, protection.backing());
                assertEquals(-1, secret.fileDescriptor());
                String reason = protection.fallbackReason().orElseThrow();
                assertTrue(reason.startsWith("memfd_secret refused: memfd_secret(flags=0x80000) failed: "), reason);
                assertTrue(protection.summary().contains(reason), protection.summary());
                assertTrue(SelfMaps.vmFlags(secret.dataAddress()).containsAll(List.of("dd", "wf", "lo")));
            }
        }
        assertEquals(vmLckBefore, SelfMaps.statusKib("VmLck"), "closing unlocks");
    }

    /** The fallback, forced by the constructor's backing option so that it runs on a kernel with memfd_secret too. */
    @Test
    void theFallbackAskedForIsLockedUndumpableWipedOnForkAndSaysSo() throws IOException {
        long vmLckBefore = SelfMaps.statusKib("VmLck");
        try (SecretMemory secret = new SecretMemory(3 * page + 1, Backing.LOCKED_ANONYMOUS)) {
            assertEquals(
                    new Protection(
                            Backing.LOCKED_ANONYMOUS,
                            4 * page,
                            Optional.of("memfd_secret not tried: LOCKED_ANONYMOUS was asked for")),
                    secret.protection());
            assertEquals(
                    "mlock + MADV_DONTDUMP + MADV_WIPEONFORK (locked, not dumped, zero in children; still in the"
                            + " kernel's direct map), " + 4 * page
                            + " bytes locked; memfd_secret not tried: LOCKED_ANONYMOUS was"
                            + " asked for",
                    secret.protection().summary());
            assertEquals(4 * page, secret.dataBytes(), "rounded up to whole pages");
            assertEquals(vmLckBefore + 4 * page / 1024, SelfMaps.statusKib("VmLck"), "VmLck rises by the data pages");
            // dd: MADV_DONTDUMP; wf: MADV_WIPEONFORK; lo: mlock.
            List<String> flags = SelfMaps.vmFlags(secret.dataAddress());
            assertTrue(flags.containsAll(List.of("dd", "wf", "lo")), "VmFlags " + flags);
        }
        assertEquals(vmLckBefore, SelfMaps.statusKib("VmLck"), "closing unlocks");
    }

    @Test
    void guardPagesFenceTheDataOnBothSides() throws IOException {
        for (Backing backing : Backing.values()) {
            try (SecretMemory secret = new SecretMemory(2 * page, backing)) {
                Pointer data = secret.dataAddress();
                assertEquals("---p", SelfMaps.mapsPermissions(data.share(-1)), backing + ": the page before");
                assertEquals(
                        "---p", SelfMaps.mapsPermissions(data.share(secret.dataBytes())), backing + ": the page after");
                assertTrue(SelfMaps.mapsPermissions(data).startsWith("rw-"), backing + ": the data");
            }
        }
    }

    @Test
    void runningOffTheEndFaultsInsteadOfReadingANeighbour() throws Exception {
        Path errorFile = temporary.resolve("hs_err.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process probe = new ProcessBuilder(
                        java,
                        "-Xmx32m",
                        "-XX:ErrorFile=" + errorFile,
                        "-XX:-CreateCoredumpOnCrash",
                        "-cp",
                        System.getProperty("java.class.path"),
                        GuardPageProbe.class.getName())
                .redirectErrorStream(true)
                .start();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(probe.waitFor(60, TimeUnit.SECONDS));
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
    void constantTimeEqualsIsTrueForExactlyTheSecretsBytes() {
        for (Backing backing : Backing.values()) {
            try (SecretMemory secret = new SecretMemory(KEY.length, backing)) {
                secret.write(0, KEY);
                assertTrue(secret.constantTimeEquals(KEY.clone()), backing.toString());
                byte[] lastDiffers = KEY.clone();
                lastDiffers[KEY.length - 1] ^= 1;
                assertFalse(secret.constantTimeEquals(lastDiffers), backing + ": last byte differs");
                assertFalse(secret.constantTimeEquals(Arrays.copyOf(KEY, KEY.length - 1)), backing + ": a prefix");
                assertFalse(secret.constantTimeEquals(Arrays.copyOf(KEY, KEY.length + 1)), backing + ": one byte more");
                // The secret repeated: every byte the loop compares past the end matches the secret's first byte.
                byte[] longer = Arrays.copyOf(KEY, 2 * KEY.length);
                Arrays.fill(longer, KEY.length, longer.length, KEY[0]);
                assertFalse(secret.constantTimeEquals(longer), backing + ": longer, padded with the first byte");
                assertFalse(secret.constantTimeEquals(new byte[0]), backing + ": empty");
                secret.close();
                assertThrows(IllegalStateException.class, () -> secret.constantTimeEquals(KEY));
            }
        }
    }

    /** The memfd_secret pages mapped a second time, read-only: what they hold, seen from outside the SecretMemory. */
    private Pointer secondMapping(SecretMemory secret) {
        return LinuxMemory.map(null, page, LinuxMemory.PROT_READ, LinuxMemory.MAP_SHARED, secret.fileDescriptor(), 0);
    }

    @Test
    void closeZeroesTheSecretSeenThroughASecondMapping() throws IOException {
        SecretMemory secret = memfdSecretOrSkip(page);
        Pointer view = secondMapping(secret);
        try {
            secret.write(0, KEY);
            assertArrayEquals(KEY, view.getByteArray(0, KEY.length), "the second mapping shows the same pages");
            secret.close();
            assertArrayEquals(new byte[(int) page], view.getByteArray(0, (int) page), "zeroed by close");
            assertThrows(IllegalStateException.class, () -> secret.read(0, new byte[1]));
            assertEquals(Backing.MEMFD_SECRET, secret.protection().backing(), "still says what it was");
            secret.close(); // idempotent
        } finally {
            LinuxMemory.unmap(view, page);
        }
    }

    @Test
    void aForgottenSecretIsZeroedByTheCleaner() throws Exception {
        SecretMemory secret = memfdSecretOrSkip(page);
        Pointer view = secondMapping(secret);
        try {
            secret.write(0, KEY);
            secret = null; // forgotten without close()
            byte[] zeros = new byte[KEY.length];
            collectUntil(() -> Arrays.equals(zeros, view.getByteArray(0, KEY.length)));
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
        collectUntil(() -> {
            try {
                return SelfMaps.statusKib("VmLck") == vmLckBefore;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(vmLckBefore, SelfMaps.statusKib("VmLck"), "the Cleaner unmapped the forgotten secret");
    }

    /**
     * Asks for collections until {@code done}: the Cleaner runs on its own thread after a collection finds the
     * secret unreachable, an event this test can only observe. The bound is generous, not tuned.
     */
    private static void collectUntil(BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
    }

    @Test
    void badSizesAreRefused() {
        assertEquals(
                "sizeBytes = 0: expected 1 to 1073741824",
                assertThrows(IllegalArgumentException.class, () -> new SecretMemory(0))
                        .getMessage());
        assertEquals(
                "sizeBytes = 1073741825: expected 1 to 1073741824",
                assertThrows(IllegalArgumentException.class, () -> new SecretMemory(SecretMemory.MAX_SIZE_BYTES + 1))
                        .getMessage());
    }

    /**
     * This module's test class path is what a service that depends on the library gets (pom.xml: core
     * without its dependencies, and JNA): every test here runs without Jackson or picocli.
     */
    @Test
    void theLibraryNeedsNothingButCoreAndJna() {
        for (String absent : List.of("com.fasterxml.jackson.databind.ObjectMapper", "picocli.CommandLine")) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(absent), absent + " is on the class path");
        }
    }
}
