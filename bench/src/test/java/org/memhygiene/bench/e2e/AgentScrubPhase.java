package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's scrub gives freed memory back. After {@link NoScrubPhase}, the controller asks each
 * plain {@link DenseGuests} guest's agent to scrub (bin/memhygiene vm scrub, over the real virtio-serial
 * port); the watch lasts until both reached {@link Watch#RECLAIM_TARGET} of what they freed and one more
 * full scan passed, or {@link #SCRUB_MAX_FULL_SCANS}. Checks that each reached it. Also records how
 * the RSS came back (THP split, zero subpages to the zero page), beside the init_on_free guest's.
 */
final class AgentScrubPhase implements Phase<AgentScrubPhase.Result> {
    /**
     * The bound on full scans for the scrubbed memory to come back. ksmd merges a page on its second
     * unskipped look (the checksum must hold still), and with smart_scan=1 (the kernel's default since
     * 6.7) a page that failed to merge in 3+ scans is skipped 1, 2, 4, then 8 scans out of every few
     * (skip_age() in mm/ksm.c) — the random data failed for 5 scans before the scrub.
     */
    static final long SCRUB_MAX_FULL_SCANS = 12;

    /** One guest's QEMU process before and after: {@code zeroed} says by whom and how much. */
    record MechanismRow(String guest, String zeroed, HostMeters.ProcessSample before, HostMeters.ProcessSample after) {
    }

    /** The phase's figures; {@code start}, {@code end} and {@code smartScan}: the host over the scrub's window. */
    record Result(List<HeadlineRow> headline, List<Check> checks, List<MechanismRow> mechanism, HostMeters.HostSample start,
            HostMeters.HostSample end, long smartScan) implements PhaseResult {
    }

    private final RealVmFixture fixture;
    private final DenseGuests guests;
    private final NoScrubPhase.Result noScrub;

    AgentScrubPhase(RealVmFixture fixture, DenseGuests guests, NoScrubPhase.Result noScrub) {
        this.fixture = fixture;
        this.guests = guests;
        this.noScrub = noScrub;
    }

    @Override
    public Result run() throws Exception {
        List<Guest> scrubbed = guests.plain();
        Map<String, Long> freed = guests.freed();
        Map<String, Long> filledRss = noScrub.filledRss();
        Map<String, Long> cpuBeforeScrub = Fleet.cpu(scrubbed);
        Map<String, HostMeters.ProcessSample> beforeScrub = new LinkedHashMap<>();
        for (Guest g : scrubbed) {
            beforeScrub.put(g.name, g.sample());
        }
        HostMeters.HostSample scrubStart = fixture.meters().host();
        Map<String, JsonNode> scrubs = new LinkedHashMap<>();
        fixture.fleet().parallel(scrubbed, g -> {
            JsonNode scrub = fixture.command().json("vm", "scrub", g.name, "--uri", Guest.URI, "--agent-timeout", "30s",
                    "--timeout", "5m", "--json");
            synchronized (scrubs) {
                scrubs.put(g.name, scrub);
            }
            return scrub;
        });
        Map<String, Long> cpuAfterScrub = Fleet.cpu(scrubbed);
        for (var e : scrubs.entrySet()) {
            log("%s: scrub %s, zeroed %s in %d ms", e.getKey(), e.getValue().path("outcome").asText(),
                    Mib.format(e.getValue().path("bytes_zeroed").asLong()), e.getValue().path("duration_millis").asLong());
        }
        Watch.Outcome watch = Watch.run(fixture.meters(), Watch.subjects(scrubbed, filledRss, freed), Watch.RECLAIM_TARGET,
                SCRUB_MAX_FULL_SCANS, Duration.ofSeconds(300), 1);
        List<Check> checks = new ArrayList<>();
        for (Guest g : scrubbed) {
            long reclaimed = filledRss.get(g.name) - watch.last().get(g.name).rssBytes();
            Watch.Reached r = watch.reached().get(g.name);
            checks.add(Check.of(r != null, "%s after the agent's scrub: QEMU RSS fell by %s, %.0f %% of the %s it freed (target %.0f %%), %s",
                    g.name, Mib.format(reclaimed), 100.0 * reclaimed / freed.get(g.name), Mib.format(freed.get(g.name)),
                    Watch.RECLAIM_TARGET * 100, r == null ? "not within " + SCRUB_MAX_FULL_SCANS + " full scans"
                            : "after " + r.fullScans() + " full scans, " + r.millis() / 1000 + " s"));
        }
        fixture.lap("1 scrub and its watch");
        List<HeadlineRow> rows = HeadlineRow.of("agent scrub (dense, via controller)", scrubbed, freed, filledRss, watch,
                scrubStart, cpuBeforeScrub, cpuAfterScrub);
        List<MechanismRow> mechanism = new ArrayList<>();
        for (Guest g : scrubbed) {
            mechanism.add(new MechanismRow(g.name, Mib.format(scrubs.get(g.name).path("bytes_zeroed").asLong()),
                    beforeScrub.get(g.name), watch.last().get(g.name)));
        }
        Guest c = guests.initOnFree();
        mechanism.add(new MechanismRow(c.name + " (filled → end of its watch)", "by its kernel on free",
                noScrub.initOnFreeFilled(), noScrub.watch().last().get(c.name)));
        return new Result(rows, checks, mechanism, scrubStart, watch.end(), HostMeters.ksm("smart_scan"));
    }
}
