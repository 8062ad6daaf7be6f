package org.memhygiene.agent.canary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.SafetyLimits;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.core.canary.CanaryDerivation;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.SelfMaps;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;

/** Real canaries in this test's own memory: locked, laid out, filled as documented, released. */
class CanaryTest {
    private static final SafetyLimits LIMITS = new SafetyLimits(new ProcMemory(Path.of("/proc")));
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    private static final byte[] NONCE =
            HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    /**
     * docs/PROTOCOL.md "Canary page contents", written again from the document: the seed SHA-256(nonce ‖
     * page index as 4 bytes big-endian), read as four little-endian 64-bit words, runs xoshiro256**, whose
     * outputs fill the page 8 bytes at a time, little-endian.
     */
    static byte[] documentedPage(byte[] nonce, int index, int pageBytes) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        sha256.update(nonce);
        sha256.update(
                ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(index).array());
        ByteBuffer seed = ByteBuffer.wrap(sha256.digest()).order(ByteOrder.LITTLE_ENDIAN);
        long[] s = {seed.getLong(), seed.getLong(), seed.getLong(), seed.getLong()};
        ByteBuffer page = ByteBuffer.allocate(pageBytes).order(ByteOrder.LITTLE_ENDIAN);
        while (page.hasRemaining()) {
            page.putLong(Long.rotateLeft(s[1] * 5, 7) * 9);
            long t = s[1] << 17;
            s[2] ^= s[0];
            s[3] ^= s[1];
            s[1] ^= s[2];
            s[0] ^= s[3];
            s[2] ^= t;
            s[3] = Long.rotateLeft(s[3], 45);
        }
        return page.array();
    }

    @Test
    void aPlantedCanaryIsLockedHoldsTheDocumentedContentsAndIsGoneAfterRelease() throws Exception {
        long lockedBefore = SelfMaps.statusKib("VmLck");
        int pages = 256;
        Canary canary = Canary.plant(NONCE, pages, LIMITS, ScrubConfig.defaults());
        try {
            assertEquals(2 * pages * PAGE, canary.lockedBytes());
            assertEquals(lockedBefore + 2 * pages * PAGE / 1024, SelfMaps.statusKib("VmLck"), "every page is locked");
            for (int i = 0; i < pages; i++) {
                assertArrayEquals(documentedPage(NONCE, i, (int) PAGE), canary.canaryPage(i), "canary page " + i);
            }
            Set<String> distinct = new HashSet<>();
            for (int i = 0; i < pages; i++) {
                distinct.add(HexFormat.of().formatHex(canary.canaryPage(i)));
                distinct.add(HexFormat.of().formatHex(canary.controlPage(i)));
            }
            assertEquals(
                    2 * pages, distinct.size(), "no two pages alike, so none merges with another of the same guest");
        } finally {
            canary.close();
        }
        assertEquals(lockedBefore, SelfMaps.statusKib("VmLck"), "released: nothing stays locked");
        canary.close(); // a second close does nothing
    }

    @Test
    void theDocumentedTestVector() throws Exception {
        // docs/PROTOCOL.md gives these for the nonce 00 01 ... 1f (a Python version of the text agrees):
        // the first 16 bytes of pages 0 and 1, and the SHA-256 of the whole 4096-byte page 0.
        assertEquals("c7abc3966fcdeadb283d83a5710f8ce0", HexFormat.of().formatHex(documentedPage(NONCE, 0, 64), 0, 16));
        assertEquals("a3a3719e82b3d5fd513617afa50711eb", HexFormat.of().formatHex(documentedPage(NONCE, 1, 64), 0, 16));
        byte[] page0 = CanaryDerivation.page(NONCE, 0, 4096);
        assertArrayEquals(documentedPage(NONCE, 0, 4096), page0);
        assertEquals(
                "470ba7d4e83a26a2d8c4b0846578ffc23d4e52c38503355156c43fb8a383bc9f",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(page0)));
    }

    @Test
    void canaryPagesAreTheSameInEveryPlantAndControlPagesNever() {
        try (Canary first = Canary.plant(NONCE, 8, LIMITS, ScrubConfig.defaults())) {
            List<byte[]> canaryPages = new ArrayList<>();
            List<byte[]> controlPages = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                canaryPages.add(first.canaryPage(i));
                controlPages.add(first.controlPage(i));
            }
            first.close();
            try (Canary second = Canary.plant(NONCE, 8, LIMITS, ScrubConfig.defaults())) {
                for (int i = 0; i < 8; i++) {
                    assertArrayEquals(canaryPages.get(i), second.canaryPage(i), "canary page " + i);
                    byte[] control = second.controlPage(i);
                    for (byte[] earlier : controlPages) {
                        assertFalse(
                                Arrays.equals(earlier, control),
                                "control page " + i + " repeats one of the first plant");
                    }
                }
            }
        }
    }

    @Test
    void everyPageIsItsOwnSmallLockedPage() throws Exception {
        try (Canary canary = Canary.plant(NONCE, 4, LIMITS, ScrubConfig.defaults())) {
            List<String> flags = SelfMaps.vmFlags(canary.address());
            assertTrue(flags.contains("lo"), "mlocked: " + flags);
            assertTrue(flags.contains("nh"), "MADV_NOHUGEPAGE: " + flags);
            assertFalse(flags.contains("mg"), "the agent does not mark its memory mergeable: " + flags);
            assertEquals(PAGE / 1024, SelfMaps.smapsField(canary.address(), "KernelPageSize"));
        }
    }

    @Test
    void timingWritesEveryPageOnceInOneInterleavedOrder() {
        int pages = 64;
        try (Canary canary = Canary.plant(NONCE, pages, LIMITS, ScrubConfig.defaults())) {
            byte[] canaryBefore = canary.canaryPage(5);
            byte[] controlBefore = canary.controlPage(9);
            CanaryTimings timings = canary.time();
            assertEquals(HexFormat.of().formatHex(NONCE), timings.nonce());
            assertTrue(timings.clockResolutionNanos() > 0, timings.toString());
            List<Integer> positions = new ArrayList<>();
            for (CanaryTimings.PageWrites writes : List.of(timings.canary(), timings.control())) {
                assertEquals(IntStream.range(0, pages).boxed().toList(), writes.pageIndices());
                assertEquals(pages, writes.nanos().size());
                assertTrue(
                        writes.nanos().stream().allMatch(n -> n >= 0),
                        writes.nanos().toString());
                assertEquals(pages, writes.summary().count());
                assertEquals(
                        writes.nanos().stream().mapToLong(Long::longValue).min().orElseThrow(),
                        writes.summary().minNanos());
                assertEquals(
                        writes.nanos().stream().mapToLong(Long::longValue).max().orElseThrow(),
                        writes.summary().maxNanos());
                positions.addAll(writes.writePositions());
            }
            assertEquals(
                    IntStream.range(0, 2 * pages).boxed().toList(),
                    positions.stream().sorted().toList(),
                    "each of the 2N writes has its own place in one sequence");
            assertFalse(
                    timings.canary().writePositions().stream()
                            .sorted()
                            .toList()
                            .equals(IntStream.range(0, pages).boxed().toList()),
                    "the kinds are interleaved, not all canary writes first");
            assertEquals((byte) ~canaryBefore[0], canary.canaryPage(5)[0], "the write went to the page");
            assertEquals((byte) ~controlBefore[0], canary.controlPage(9)[0]);
            assertArrayEquals(
                    Arrays.copyOfRange(canaryBefore, 1, (int) PAGE),
                    Arrays.copyOfRange(canary.canaryPage(5), 1, (int) PAGE),
                    "one byte written, no more");
            assertThrows(IllegalStateException.class, canary::time, "a canary is timed once");
        }
    }

    @Test
    void aHeadroomTheCanaryWouldCrossRefusesItAndMapsNothing() throws Exception {
        long lockedBefore = SelfMaps.statusKib("VmLck");
        // A headroom of 64 TiB: no machine's MemAvailable leaves room above it.
        ScrubConfig config = ScrubConfig.defaults().withHeadroom(64L << 40, 10);
        CanaryException refused = assertThrows(CanaryException.class, () -> Canary.plant(NONCE, 16, LIMITS, config));
        assertEquals(ErrorCode.CANARY_REFUSED, refused.code());
        assertTrue(
                refused.getMessage()
                        .matches("16 canary and 16 control pages \\(.*\\) refused: MemAvailable \\d+ MiB less \\d+ MiB"
                                + " would fall under the headroom of 67108864 MiB"),
                refused.getMessage());
        assertEquals(lockedBefore, SelfMaps.statusKib("VmLck"));
    }
}
