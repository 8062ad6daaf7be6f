package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The KSM phases' guests, shared by them: two guests from vm-configs/dense.xml and one booted with
 * init_on_free=1, {@link Guest#MEMORY_MIB} each, booted together (the run's first boot tries KVM), KSM
 * at the fixed rate with zero pages on, two full scans over them idle, then most of their free memory
 * filled with random data ({@code freed}: the bytes each will free). ksmd keeps scanning during the fill: paused
 * instead (tried on 2026-12-04), its records kept the idle memory's zero checksums, so pages the guests zeroed
 * after the free merged on ksmd's first visit (a plain guest got back 11 % without a scrub).
 */
record DenseGuests(Guest dense1, Guest dense2, Guest initOnFree, Map<String, Long> freed) {
    /**
     * The scan rate fixed for the measured phases: ksmd scans at most 1000 pages per 20 ms. Twice that
     * was tried: ksmd then slowed the guests' fill (24 s instead of 13 s for 145 MiB with KSM off) and
     * the many full scans during the fill aged the random data's pages under smart_scan, so that a
     * scrubbed guest needed 11 of its 12 allowed full scans.
     */
    static final long PAGES_TO_SCAN = 1000;

    static final long SLEEP_MILLIS = 20;

    static DenseGuests bootAndFill(RealVmFixture fixture) throws Exception {
        Fleet fleet = fixture.fleet();
        Guest a = fleet.boot("memhygiene-e2e-dense-1", "", false, Guest.MEMORY_MIB);
        Guest b = fleet.boot("memhygiene-e2e-dense-2", "", false, Guest.MEMORY_MIB);
        Guest c = fleet.boot("memhygiene-e2e-initonfree", "init_on_free=1", false, Guest.MEMORY_MIB);
        List<Guest> guests = List.of(a, b, c);
        fleet.ready(guests);
        fixture.lap("1 boot (KVM try, 3 guests and their agents)");
        RealVmFixture.setKsm(PAGES_TO_SCAN, SLEEP_MILLIS, 1);
        log(
                "KSM on at %d pages / %d ms, use_zero_pages=1; waiting for 2 full scans over the idle guests",
                PAGES_TO_SCAN, SLEEP_MILLIS);
        Watch.run(fixture.meters(), List.of(), 0, 2, Duration.ofSeconds(120), 0);
        fixture.lap("1 two full scans over the idle guests");
        Map<String, Long> freed = fleet.fill(guests);
        fixture.lap("1 fill");
        return new DenseGuests(a, b, c, freed);
    }

    List<Guest> all() {
        return List.of(dense1, dense2, initOnFree);
    }

    /** The two guests without init_on_free: the ones that need a scrub. */
    List<Guest> plain() {
        return List.of(dense1, dense2);
    }
}
