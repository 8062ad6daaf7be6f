package org.memhygiene.bench.e2e;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Free page reporting (vm-configs/dense.xml as shipped, the balloon reports free pages to the host) with
 * KSM stopped: the reporting guest of {@link KsmStoppedGuests} frees what it filled, watched until
 * {@link Watch#RECLAIM_TARGET} of it is back, then destroyed, also when the watch fails, so that the tuner
 * comparison runs without it. Checks that it got back {@link Watch#RECLAIM_TARGET} of what it freed. With KSM
 * stopped there are no full scans to count: the guest reports free pages 2 s after they gather
 * (page_reporting_delay in mm/page_reporting.c), so {@link #BACKSTOP} is many times what it takes.
 */
final class FreePageReportingPhase implements Phase<FreePageReportingPhase.Result> {
    record Result(List<HeadlineRow> headline, List<Check> checks) implements PhaseResult {}

    static final Duration BACKSTOP = Duration.ofSeconds(120);

    private final RealVmFixture fixture;
    private final Guest guest;
    private final long freedBytes;

    FreePageReportingPhase(RealVmFixture fixture, KsmStoppedGuests guests) {
        this.fixture = fixture;
        this.guest = guests.reporting();
        this.freedBytes = guests.freed().get(guest.name);
    }

    @Override
    public Result run() throws Exception {
        try {
            List<Guest> d = List.of(guest);
            Map<String, Long> freed = Map.of(guest.name, freedBytes);
            Map<String, Long> filledRss = Fleet.rss(d);
            Map<String, Long> cpuBefore = Fleet.cpu(d);
            HostMeters.HostSample start = fixture.meters().host();
            guest.sh("rm /dev/shm/fill", Duration.ofSeconds(60));
            Watch.Outcome fpr = Watch.run(
                    fixture.meters(),
                    Watch.subjects(d, filledRss, freed),
                    Watch.RECLAIM_TARGET,
                    Long.MAX_VALUE,
                    BACKSTOP,
                    0);
            Map<String, Long> cpuAfter = Fleet.cpu(d);
            long reclaimed =
                    filledRss.get(guest.name) - fpr.last().get(guest.name).rssBytes();
            Watch.Reached r = fpr.reached().get(guest.name);
            Check check = Check.of(
                    r != null,
                    "%s with free page reporting: QEMU RSS fell by %s, %.0f %% of the %s it freed"
                            + " (target %.0f %%), %s",
                    guest.name,
                    Mib.format(reclaimed),
                    100.0 * reclaimed / freedBytes,
                    Mib.format(freedBytes),
                    Watch.RECLAIM_TARGET * 100,
                    r == null ? "not within " + BACKSTOP.toSeconds() + " s" : "after " + r.millis() / 1000.0 + " s");
            return new Result(
                    HeadlineRow.of(
                            "free page reporting (balloon, KSM off)",
                            d,
                            freed,
                            filledRss,
                            fpr,
                            start,
                            cpuBefore,
                            cpuAfter),
                    List.of(check));
        } finally {
            fixture.fleet().close(guest);
            fixture.lap("2 free page reporting: free, watch, destroy");
        }
    }
}
