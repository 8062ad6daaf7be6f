package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Without a scrub, freed random data stays on the host, and ages. The three {@link DenseGuests} free what
 * they filled; the watch lasts until {@link #AGED_FULL_SCANS} full scans with smart_scan on have passed, so
 * that the freed memory the scrub phase then zeroes is as old to ksmd as on a host whose guests ran for days
 * (from 9 unmerged scans on, smart_scan visits a page once every 9: skip_age() in mm/ksm.c). The controller's
 * daemon runs through it as on a real host: the init_on_free guest's kernel zeroes what it frees, its agent
 * says so (guest.init_on_free.on), and the daemon's reclaim boost takes the rise of its MemAvailable as a
 * scrub (docs/POLICY.md, "Reclaim boost"), so its zeroed pages come back whatever their age (on a loaded
 * machine the fill is slow and they are old by the time they are freed: without the boost, 83 % after 12
 * full scans in docs/RESULTS.md). Checks that each guest without init_on_free got back less than
 * {@link #NOT_RECLAIMED_BELOW} of what it freed, that the init_on_free guest got back
 * {@link Watch#RECLAIM_TARGET} of it, that the daemon's boost named it, and that the data aged the full scans
 * it should.
 */
final class NoScrubPhase implements Phase<NoScrubPhase.Result> {
    static final double NOT_RECLAIMED_BELOW = 0.10;
    /** Full scans the freed data ages before the scrub: the long-running host of issue 15. */
    static final long AGED_FULL_SCANS = 12;
    /**
     * The full scans the watch may add for the daemon's boost of the init_on_free guest (smart_scan off: no
     * page ages): reclaim_boost.max_full_scans, the most one boost lasts.
     */
    static final long BOOST_FULL_SCANS = 10;
    /** The scrub phase's policy, with the policy's own scrubs off: this phase watches freed data without one. */
    static final String NO_SCRUB_POLICY = AgentScrubPhase.POLICY + "scrub:\n  enabled: false\n";
    /** A backstop only: the watch ends by full scans (about 6 s each at the suite's rate on a quiet host). */
    static final Duration BACKSTOP = Duration.ofSeconds(1200);

    /**
     * The phase's figures; {@code filledRss} (each guest's QEMU RSS when full) and the init_on_free
     * guest's samples are what the scrub phase measures against.
     */
    record Result(
            Map<String, Long> filledRss,
            HostMeters.ProcessSample initOnFreeFilled,
            Watch.Outcome watch,
            List<HeadlineRow> headline,
            List<Check> checks,
            List<String> boostDecisions)
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
        Watch.Outcome noScrub;
        List<String> boost;
        Path dir = PhaseDirectory.create("no-scrub");
        Map<String, Long> cpuBeforeFree;
        Map<String, Long> cpuAfterFree;
        HostMeters.HostSample beforeFree;
        try (ControllerDaemon daemon =
                ControllerDaemon.start(fixture, dir, "memhygiene-run-no-scrub", NO_SCRUB_POLICY, Optional.empty())) {
            daemon.awaitAgents(all.stream().map(g -> g.name).toList());
            daemon.awaitNextSample(); // the reclaim boost's baseline: each guest's MemAvailable while full
            cpuBeforeFree = Fleet.cpu(all);
            beforeFree = fixture.meters().host();
            fixture.fleet().parallel(all, g -> g.sh("rm /dev/shm/fill", Duration.ofSeconds(60)));
            // The free's own CPU: with init_on_free=1 the kernel zeroes the pages inside this rm.
            cpuAfterFree = Fleet.cpu(all);
            log(
                    "freed %s; watching %d full scans with smart_scan on, without a scrub, the daemon running",
                    Mib.format(freed), AGED_FULL_SCANS);
            noScrub = Watch.run(
                    fixture.meters(),
                    Watch.subjects(all, filledRss, freed),
                    Watch.RECLAIM_TARGET,
                    AGED_FULL_SCANS,
                    AGED_FULL_SCANS + BOOST_FULL_SCANS,
                    BACKSTOP,
                    0,
                    List.of(c.name));
            boost = daemon.boostDecisions();
        }
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
                boost.stream()
                        .anyMatch(d -> d.contains("\"reason\":\"reclaim boost: scrubs zeroed")
                                && d.contains(c.name + " ")
                                && d.contains("init_on_free=1")),
                "the daemon's reclaim boost took %s's freeing as zeroed memory (init_on_free=1): %d boost decisions",
                c.name,
                boost.size()));
        checks.add(Check.of(
                noScrub.agedFullScans() >= AGED_FULL_SCANS,
                "the freed data aged %d full scans with smart_scan on before the scrub (at least %d; %d full scans,"
                        + " %d s, in all)",
                noScrub.agedFullScans(),
                AGED_FULL_SCANS,
                noScrub.fullScans(),
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
        PhaseDirectory.removeUnlessFailed(dir, checks);
        return new Result(filledRss, initOnFreeFilled, noScrub, rows, checks, boost);
    }
}
