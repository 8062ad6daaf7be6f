package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Without a scrub, freed random data stays on the host, and ages. The three {@link DenseGuests} free what
 * they filled; the watch lasts {@link #AGED_FULL_SCANS} full scans, so that the freed memory the scrub phase
 * then zeroes is as old to ksmd as on a host whose guests ran for days (from 9 unmerged scans on, smart_scan
 * visits a page once every 9: skip_age() in mm/ksm.c). Checks that each guest without init_on_free got back
 * less than {@link #NOT_RECLAIMED_BELOW} of what it freed, that the init_on_free guest got back
 * {@link Watch#RECLAIM_TARGET} of it (its kernel zeroed the pages as they were freed, while they were young),
 * and that the data aged the full scans it should.
 */
final class NoScrubPhase implements Phase<NoScrubPhase.Result> {
    static final double NOT_RECLAIMED_BELOW = 0.10;
    /** Full scans the freed data ages before the scrub: the long-running host of issue 15. */
    static final long AGED_FULL_SCANS = 12;
    /** A backstop only: the watch ends by full scans (about 6 s each at the suite's rate on a quiet host). */
    static final Duration BACKSTOP = Duration.ofSeconds(900);

    /**
     * The phase's figures; {@code filledRss} (each guest's QEMU RSS when full) and the init_on_free
     * guest's samples are what the scrub phase measures against.
     */
    record Result(
            Map<String, Long> filledRss,
            HostMeters.ProcessSample initOnFreeFilled,
            Watch.Outcome watch,
            List<HeadlineRow> headline,
            List<Check> checks)
            implements PhaseResult {}

    private final RealVmFixture fixture;
    private final DenseGuests guests;

    NoScrubPhase(RealVmFixture fixture, DenseGuests guests) {
        this.fixture = fixture;
        this.guests = guests;
    }

    @Override
    public Result run() throws Exception {
        List<Guest> all = guests.all();
        Guest c = guests.initOnFree();
        Map<String, Long> freed = guests.freed();
        Map<String, Long> filledRss = Fleet.rss(all);
        HostMeters.ProcessSample initOnFreeFilled = c.sample();
        Map<String, Long> cpuBeforeFree = Fleet.cpu(all);
        HostMeters.HostSample beforeFree = fixture.meters().host();
        fixture.fleet().parallel(all, g -> g.sh("rm /dev/shm/fill", Duration.ofSeconds(60)));
        // The free's own CPU: with init_on_free=1 the kernel zeroes the pages inside this rm.
        Map<String, Long> cpuAfterFree = Fleet.cpu(all);
        log("freed %s; watching %d full scans without a scrub", Mib.format(freed), AGED_FULL_SCANS);
        Watch.Outcome noScrub = Watch.run(
                fixture.meters(),
                Watch.subjects(all, filledRss, freed),
                Watch.RECLAIM_TARGET,
                AGED_FULL_SCANS,
                AGED_FULL_SCANS,
                BACKSTOP,
                0,
                List.of(c.name));
        List<Check> checks = new ArrayList<>();
        for (Guest g : guests.plain()) {
            long reclaimed = filledRss.get(g.name) - noScrub.last().get(g.name).rssBytes();
            checks.add(Check.of(
                    reclaimed < NOT_RECLAIMED_BELOW * freed.get(g.name),
                    "%s without a scrub: %d full scans reclaimed %s of the %s of random data it freed (must stay under %.0f %%)",
                    g.name,
                    noScrub.fullScans(),
                    Mib.format(reclaimed),
                    Mib.format(freed.get(g.name)),
                    NOT_RECLAIMED_BELOW * 100));
        }
        long initOnFreeReclaimed =
                filledRss.get(c.name) - noScrub.last().get(c.name).rssBytes();
        Watch.Reached initOnFreeReached = noScrub.reached().get(c.name);
        checks.add(Check.of(
                initOnFreeReached != null,
                "%s (init_on_free=1): QEMU RSS fell by %s, %.0f %% of the %s it freed (target %.0f %%), %s",
                c.name,
                Mib.format(initOnFreeReclaimed),
                100.0 * initOnFreeReclaimed / freed.get(c.name),
                Mib.format(freed.get(c.name)),
                Watch.RECLAIM_TARGET * 100,
                initOnFreeReached == null
                        ? "not within " + noScrub.fullScans() + " full scans"
                        : "after " + initOnFreeReached.fullScans() + " full scans, " + initOnFreeReached.millis() / 1000
                                + " s"));
        checks.add(Check.of(
                noScrub.fullScans() >= AGED_FULL_SCANS,
                "the freed data aged %d full scans before the scrub" + " (at least %d; %d s)",
                noScrub.fullScans(),
                AGED_FULL_SCANS,
                noScrub.millis() / 1000));
        fixture.lap("1 free, watch without a scrub: the freed data ages");
        List<HeadlineRow> rows = new ArrayList<>(HeadlineRow.of(
                "no scrub (dense, random data freed)",
                guests.plain(),
                freed,
                filledRss,
                noScrub,
                beforeFree,
                cpuBeforeFree,
                cpuAfterFree));
        rows.addAll(HeadlineRow.of(
                "init_on_free=1 (guest kernel zeroes on free)",
                List.of(c),
                freed,
                filledRss,
                noScrub,
                beforeFree,
                cpuBeforeFree,
                cpuAfterFree));
        return new Result(filledRss, initOnFreeFilled, noScrub, rows, checks);
    }
}
