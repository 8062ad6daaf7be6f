package org.memhygiene.controller.guestmemory;

import java.util.OptionalLong;
import org.memhygiene.core.host.GuestMemory;

/** The counts of one pass so far (see {@link GuestMemory.Pages} for what each means). */
final class PageTally {
    long resident;
    long thp;
    long hugetlb;
    long ksm;
    double ksmSaved;
    long zero;
    long hugeZero;
    long swapped;
    long notPresent;
    long givenBack;

    long total() {
        return resident + ksm + zero + hugeZero + swapped + notPresent;
    }

    /**
     * @param ksmMeasured      whether {@code ksm} is known (else it is absent, and in {@code resident})
     * @param ksmSavedMeasured whether KSM's sharers were counted
     */
    GuestMemory.Pages toPages(boolean ksmMeasured, boolean ksmSavedMeasured) {
        return new GuestMemory.Pages(
                OptionalLong.of(resident),
                OptionalLong.of(thp),
                OptionalLong.of(hugetlb),
                ksmMeasured ? OptionalLong.of(ksm) : OptionalLong.empty(),
                ksmSavedMeasured ? OptionalLong.of(Math.round(ksmSaved)) : OptionalLong.empty(),
                OptionalLong.of(zero),
                OptionalLong.of(hugeZero),
                OptionalLong.of(swapped),
                OptionalLong.of(notPresent),
                OptionalLong.of(givenBack));
    }
}
