package org.memhygiene.controller.history;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.memhygiene.controller.policy.Samples;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.VmSnapshot;

class ReclaimedSumsTest {
    private static VmSnapshot measured(String name, long zero, long zeroNeverBacked, long givenBack) {
        GuestMemory.Pages pages = new GuestMemory.Pages(
                OptionalLong.of(1000 - zero - givenBack),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(zero),
                OptionalLong.of(zeroNeverBacked),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(givenBack),
                OptionalLong.of(givenBack));
        return Samples.vm(name, 1L << 30)
                .withGuestMemory(Optional.of(new GuestMemory(
                        GuestMemory.Method.PAGEMAP_SCAN,
                        Optional.empty(),
                        42,
                        4096,
                        1000,
                        pages,
                        OptionalLong.empty(),
                        Instant.EPOCH,
                        Instant.EPOCH,
                        1)));
    }

    @Test
    void theHostsReclaimedIsTheSumOfItsVmsAndItsZeroLeavesOutWhatWasNeverBacked() {
        List<VmSnapshot> vms = List.of(measured("a", 300, 100, 50), measured("b", 10, 0, 0));
        ReclaimedSums sums = ReclaimedSums.of(vms);
        long eachVm =
                vms.stream().mapToLong(v -> v.reclaimedBytes().getAsLong()).sum();
        assertEquals(OptionalLong.of(eachVm), sums.reclaimed(), "the host: the sum of the VMs' reclaimed");
        assertEquals(OptionalLong.of((200 + 10) * 4096), sums.zero(), "zero-mapped once backed");
        assertEquals(OptionalLong.of(50 * 4096), sums.givenBack());
    }
}
