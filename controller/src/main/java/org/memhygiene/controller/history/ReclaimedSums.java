package org.memhygiene.controller.history;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.VmSnapshot;

/**
 * The host's reclaimed guest memory in one sample: the sums over the VMs whose guest memory was measured
 * by page states (a smaps_rollup fallback knows no zero-mapped or given-back pages, so it is left out);
 * empty when no VM was.
 */
record ReclaimedSums(OptionalLong reclaimed, OptionalLong zero, OptionalLong givenBack, OptionalLong ksmSharingSaved) {

    static ReclaimedSums of(List<VmSnapshot> vms) {
        long zero = 0;
        long givenBack = 0;
        long sharing = 0;
        boolean any = false;
        boolean anySharing = false;
        for (VmSnapshot vm : vms) {
            Optional<GuestMemory> measured =
                    vm.guestMemory().filter(m -> m.method().pageStates());
            if (measured.isEmpty()) {
                continue;
            }
            any = true;
            zero += measured.get().bytes(GuestMemory.Pages::zeroReclaimed).orElse(0);
            givenBack += measured.get().bytes(GuestMemory.Pages::givenBack).orElse(0);
            OptionalLong saved = measured.get().bytes(GuestMemory.Pages::ksmSaved);
            anySharing |= saved.isPresent();
            sharing += saved.orElse(0);
        }
        return any
                ? new ReclaimedSums(
                        OptionalLong.of(zero + givenBack),
                        OptionalLong.of(zero),
                        OptionalLong.of(givenBack),
                        anySharing ? OptionalLong.of(sharing) : OptionalLong.empty())
                : new ReclaimedSums(
                        OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
    }
}
