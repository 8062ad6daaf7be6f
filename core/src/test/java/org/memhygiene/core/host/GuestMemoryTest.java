package org.memhygiene.core.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    /** 1000 pages: 600 resident, 300 zero-mapped of which 100 never backed, 100 given back. */
    static GuestMemory measured(GuestMemory.Method method) {
        GuestMemory.Pages pages = new GuestMemory.Pages(
                OptionalLong.of(600),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(300),
                OptionalLong.of(100),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(100),
                OptionalLong.of(100));
        return new GuestMemory(
                method, Optional.empty(), 42, 4096, 1000, pages, OptionalLong.of(600), Instant.EPOCH, Instant.EPOCH, 1);
    }

    @Test
    void reclaimedIsTheZeroMappedPagesThatWereBackedPlusTheGivenBackOnes() {
        GuestMemory m = measured(GuestMemory.Method.PAGEMAP_SCAN);
        assertEquals(OptionalLong.of(200), m.pages().zeroReclaimed(), "300 zero-mapped, 100 of them never backed");
        assertEquals(OptionalLong.of(300), m.reclaimedPages(), "RECLAIMED = ZERO (200) + GIVEN BACK (100)");
        assertEquals(OptionalLong.of(300 * 4096), m.reclaimedBytes());
    }
}
