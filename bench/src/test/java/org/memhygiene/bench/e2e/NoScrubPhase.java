package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Without a scrub, freed random data stays on the host. The three {@link DenseGuests} free what they
 * filled; the watch lasts at least {@link #NO_SCRUB_FULL_SCANS} full scans and until the init_on_free
 * guest's memory is back (at most {@link AgentScrubPhase#SCRUB_MAX_FULL_SCANS}). Checks that each
 * guest without init_on_free got back less than {@link #NOT_RECLAIMED_BELOW} of what it freed; the
 * init_on_free guest is measured and reported, not checked.
 */
final class NoScrubPhase implements Phase<NoScrubPhase.Result> {
    static final double NOT_RECLAIMED_BELOW = 0.10;
    static final long NO_SCRUB_FULL_SCANS = 3;

    /**
     * The phase's figures; {@code filledRss} (each guest's QEMU RSS when full) and the init_on_free
     * guest's samples are what the scrub phase measures against.
     */
    record Result(Map<String, Long> filledRss, HostMeters.ProcessSample initOnFreeFilled, Watch.Outcome watch,
            List<HeadlineRow> headline, List<Check> checks) implements PhaseResult {
    }

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
        log("freed %s; watching at least %d full scans without a scrub, until %s is back", Mib.format(freed),
                NO_SCRUB_FULL_SCANS, c.name);
        Watch.Outcome noScrub = Watch.run(fixture.meters(), Watch.subjects(all, filledRss, freed), Watch.RECLAIM_TARGET,
                NO_SCRUB_FULL_SCANS, AgentScrubPhase.SCRUB_MAX_FULL_SCANS, Duration.ofSeconds(300), 0, List.of(c.name));
        List<Check> checks = new ArrayList<>();
        for (Guest g : guests.plain()) {
            long reclaimed = filledRss.get(g.name) - noScrub.last().get(g.name).rssBytes();
            checks.add(Check.of(reclaimed < NOT_RECLAIMED_BELOW * freed.get(g.name),
                    "%s without a scrub: %d full scans reclaimed %s of the %s of random data it freed (must stay under %.0f %%)",
                    g.name, noScrub.fullScans(), Mib.format(reclaimed), Mib.format(freed.get(g.name)), NOT_RECLAIMED_BELOW * 100));
        }
        fixture.lap("1 free, watch without a scrub (init_on_free guest back)");
        List<HeadlineRow> rows = new ArrayList<>(HeadlineRow.of("no scrub (dense, random data freed)", guests.plain(), freed,
                filledRss, noScrub, beforeFree, cpuBeforeFree, cpuAfterFree));
        rows.addAll(HeadlineRow.of("init_on_free=1 (guest kernel zeroes on free)", List.of(c), freed, filledRss, noScrub,
                beforeFree, cpuBeforeFree, cpuAfterFree));
        return new Result(filledRss, initOnFreeFilled, noScrub, rows, checks);
    }
}
