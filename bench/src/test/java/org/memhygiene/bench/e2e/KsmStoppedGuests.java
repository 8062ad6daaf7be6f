package org.memhygiene.bench.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Free page reporting needs KSM stopped, and so does the start of each tuner's run: the free page
 * reporting guest and ksmtuned's pair boot and fill together while KSM is reset and stopped (nothing is
 * scanned, so the pair waits in the state it would reach without company). {@link FreePageReportingPhase}
 * measures and destroys the reporting guest; only then does {@link TunerComparisonPhase} let the pair
 * free its memory and ksmtuned start. All {@link Guest#SMALL_GUEST_MIB}.
 */
record KsmStoppedGuests(Guest reporting, List<Guest> ksmtunedPair, Map<String, Long> freed) {
    static KsmStoppedGuests bootAndFill(RealVmFixture fixture) throws Exception {
        Fleet fleet = fixture.fleet();
        TunerComparisonPhase.resetKsm();
        Guest d = fleet.boot("memhygiene-e2e-fpr", "", true, Guest.SMALL_GUEST_MIB);
        List<Guest> pair = TunerComparisonPhase.bootPair(fleet);
        List<Guest> three = new ArrayList<>(List.of(d));
        three.addAll(pair);
        fleet.ready(three);
        fixture.lap("2 boot (free page reporting guest, ksmtuned's pair)");
        Map<String, Long> freed = fleet.fill(three);
        fixture.lap("2 fill");
        return new KsmStoppedGuests(d, pair, freed);
    }
}
