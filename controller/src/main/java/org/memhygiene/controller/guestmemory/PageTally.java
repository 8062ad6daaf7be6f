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
    long zeroNeverBacked;
    long hugeZero;
    long swapped;
    long notPresent;
    long givenBack;

    /**
     * {@code count} pages from {@code first} mapped to the 4 KiB zero page. Once a whole pass has marked
     * {@code seen}, those it never saw backed (never touched, or on the huge zero page, until a write filled
     * them and KSM merged them with the zero page) never cost the host: they are not reclaimed. Before
     * that, the pages' past is unknown and they count as reclaimed.
     */
    void zero(PageBits seen, int first, int count) {
        zero += count;
        if (seen.complete()) {
            zeroNeverBacked += count - seen.count(first, first + count);
        } else {
            seen.set(first, first + count);
        }
    }

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
                OptionalLong.of(zeroNeverBacked),
                OptionalLong.of(hugeZero),
                OptionalLong.of(swapped),
                OptionalLong.of(notPresent),
                OptionalLong.of(givenBack));
    }
}
