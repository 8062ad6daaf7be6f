package org.memhygiene.secret;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.linux.SelfMaps;
import org.memhygiene.secret.SecretMemory.Backing;
import org.memhygiene.secret.SecretMemory.Trim;

/** SecretMemory.readFile on real files: what it keeps, what it refuses, and that the bytes stay out of the Java heap. */
class SecretFileTest {
    @TempDir
    Path dir;

    @Test
    void aTextTokenLosesTheWhitespaceAroundItAndNothingElse() throws IOException {
        Path file = Files.write(dir.resolve("token"), "\t s3cret token\r\n".getBytes(StandardCharsets.US_ASCII));
        try (SecretMemory secret = SecretMemory.readFile(file, Trim.ASCII_WHITESPACE, 4096)) {
            assertEquals(12, secret.sizeBytes());
            assertTrue(secret.constantTimeEquals("s3cret token".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(
                    KernelSecretmem.offered() ? Backing.MEMFD_SECRET : Backing.LOCKED_ANONYMOUS,
                    secret.protection().backing(),
                    KernelSecretmem.evidence());
            // The bytes were moved to the start of the pages; what they left behind is zero.
            byte[] pages = secret.dataAddress().getByteArray(0, (int) secret.dataBytes());
            assertArrayEquals(new byte[pages.length - 12], Arrays.copyOfRange(pages, 12, pages.length));
        }
    }

    @Test
    void aBinaryKeyKeepsEveryByte() throws IOException {
        byte[] key = {'\n', 0, ' ', 1, (byte) 0xff, '\r'};
        try (SecretMemory secret = SecretMemory.readFile(Files.write(dir.resolve("key"), key), Trim.NONE, 4096)) {
            assertEquals(key.length, secret.sizeBytes());
            assertTrue(secret.constantTimeEquals(key));
        }
    }

    @Test
    void badFilesAreRefusedNamingTheFileAndHoldNothing() throws IOException {
        long vmLckBefore = SelfMaps.statusKib("VmLck");
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        assertEquals(
                empty + " is empty: expected a secret",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> SecretMemory.readFile(empty, Trim.ASCII_WHITESPACE, 4096))
                        .getMessage());
        Path blank = Files.writeString(dir.resolve("blank"), " \n\n");
        assertEquals(
                blank + " holds only whitespace: expected a secret",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> SecretMemory.readFile(blank, Trim.ASCII_WHITESPACE, 4096))
                        .getMessage());
        Path large = Files.writeString(dir.resolve("large"), "123456789");
        assertEquals(
                large + " has 9 bytes: expected a secret of at most 8 bytes",
                assertThrows(IllegalArgumentException.class, () -> SecretMemory.readFile(large, Trim.NONE, 8))
                        .getMessage());
        Path missing = dir.resolve("missing");
        assertEquals(
                missing.toString(),
                assertThrows(NoSuchFileException.class, () -> SecretMemory.readFile(missing, Trim.NONE, 8))
                        .getMessage());
        IOException directory = assertThrows(IOException.class, () -> SecretMemory.readFile(dir, Trim.NONE, 1 << 20));
        assertTrue(directory.getMessage().contains("Is a directory"), directory.getMessage());
        assertEquals(vmLckBefore, SelfMaps.statusKib("VmLck"), "refused reads released what they had locked");
    }

    /**
     * The claim README.md makes: readFile puts a secret into secret memory without a copy in the Java heap.
     * The dump after a deliberate copy into a byte array shows that the search finds a copy where there is one.
     */
    @Test
    void theSecretReachesNoJavaObject() throws Exception {
        Path token = HeapSearch.randomHexToken(dir.resolve("token"));
        try (SecretMemory secret = SecretMemory.readFile(token, Trim.ASCII_WHITESPACE, 4096)) {
            assertEquals(48, secret.sizeBytes(), "24 random bytes in hex");
            assertFalse(HeapSearch.heapHolds(token, dir), "no Java object holds the token");
            byte[] copy = new byte[48];
            secret.read(0, copy);
            assertTrue(HeapSearch.heapHolds(token, dir), "the search finds a copy in a byte array");
            Arrays.fill(copy, (byte) 0);
        }
    }
}
