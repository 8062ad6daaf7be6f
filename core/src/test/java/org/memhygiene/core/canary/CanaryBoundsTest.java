package org.memhygiene.core.canary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CanaryBoundsTest {
    @Test
    void aNonceIsSixteenToThirtyTwoBytesOfHexInEitherCase() {
        assertArrayEquals(
                new byte[] {0x00, 0x11, (byte) 0xab, (byte) 0xcd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff},
                CanaryBounds.parseNonce("nonce", "0011ABcd0000000000000000000000fF"));
        assertEquals(32, CanaryBounds.parseNonce("nonce", "ab".repeat(32)).length);
        for (String bad : List.of(
                "",
                "ab".repeat(15),
                "ab".repeat(33),
                "a".repeat(33),
                "zz".repeat(16),
                "\uff11".repeat(32),
                " " + "ab".repeat(16))) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> CanaryBounds.parseNonce("--nonce", bad), bad);
            assertTrue(e.getMessage().startsWith("--nonce = \""), e.getMessage());
            assertTrue(
                    e.getMessage().endsWith("expected 32 to 64 hex digits (16 to 32 bytes), an even number"),
                    e.getMessage());
        }
        assertEquals("00ff", CanaryBounds.hex(new byte[] {0, (byte) 0xff}));
    }

    @Test
    void pagesAreBoundedByCountAndBytes() {
        assertEquals(1024, CanaryBounds.maxPages(4096));
        assertEquals(256, CanaryBounds.maxPages(16384));
        assertEquals(64, CanaryBounds.maxPages(65536));
        assertEquals(256, CanaryBounds.defaultPages(4096));
        assertEquals(64, CanaryBounds.defaultPages(65536));
        assertEquals(1024, CanaryBounds.checkPages("pages", 1024, 4096));
        IllegalArgumentException over =
                assertThrows(IllegalArgumentException.class, () -> CanaryBounds.checkPages("pages", 1025, 4096));
        assertEquals(
                "pages = 1025: expected 1 to 1024 (at most 4096 KiB of 4096-byte pages, and at most 1024)",
                over.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CanaryBounds.checkPages("pages", 0, 4096));
        assertThrows(IllegalArgumentException.class, () -> CanaryBounds.checkPages("pages", 65, 65536));
    }

    @Test
    void aLeaseIsASecondToAnHour() {
        assertEquals(1000, CanaryBounds.checkLease("lease_millis", 1000));
        assertEquals(3_600_000, CanaryBounds.checkLease("lease_millis", 3_600_000));
        assertEquals(
                "lease_millis = 999: expected 1000 to 3600000 milliseconds",
                assertThrows(IllegalArgumentException.class, () -> CanaryBounds.checkLease("lease_millis", 999))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> CanaryBounds.checkLease("lease_millis", 3_600_001));
    }
}
