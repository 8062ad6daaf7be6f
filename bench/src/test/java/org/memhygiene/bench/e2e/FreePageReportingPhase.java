package org.memhygiene.bench.e2e;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Free page reporting (vm-configs/dense.xml as shipped, the balloon reports free pages to the host) with
 * KSM stopped: the reporting guest of {@link KsmStoppedGuests} frees what it filled, watched until
 * {@link Watch#RECLAIM_TARGET} of it is back (at most 30 s), then destroyed, also when the watch fails,
 * so that the tuner comparison runs without it. Measured and reported; no check yet.
 */
final class FreePageReportingPhase implements Phase<FreePageReportingPhase.Result> {
    record Result(List<HeadlineRow> headline) implements PhaseResult {
        @Override
        public List<Check> checks() {
            return List.of();
        }
    }

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
            Watch.Outcome fpr = Watch.run(fixture.meters(), Watch.subjects(d, filledRss, freed), Watch.RECLAIM_TARGET,
                    Long.MAX_VALUE, Duration.ofSeconds(30), 0);
            Map<String, Long> cpuAfter = Fleet.cpu(d);
            return new Result(HeadlineRow.of("free page reporting (balloon, KSM off)", d, freed, filledRss, fpr, start,
                    cpuBefore, cpuAfter));
        } finally {
            fixture.fleet().close(guest);
            fixture.lap("2 free page reporting: free, watch, destroy");
        }
    }
}
