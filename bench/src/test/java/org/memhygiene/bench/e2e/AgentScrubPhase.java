package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The agent's scrub gives freed memory back on a long-running host. After {@link NoScrubPhase} has aged
 * the freed random data {@link NoScrubPhase#AGED_FULL_SCANS} full scans (with smart_scan=1, the kernel's
 * default since 6.7, ksmd then visits it once every 9 scans: skip_age() in mm/ksm.c), the controller's
 * daemon ({@code bin/memhygiene run}, adaptive policy) asks each plain {@link DenseGuests} guest's agent
 * to scrub through its API, over the real virtio-serial port, and its reclaim boost makes ksmd reach the
 * zeroed memory (docs/POLICY.md, "Reclaim boost after scrubs"). The watch lasts until both reached
 * {@link Watch#RECLAIM_TARGET} of what they freed and one more full scan passed, or
 * {@link #SCRUB_MAX_FULL_SCANS}. Checks: each reached it within {@link #BOOSTED_FULL_SCANS} full scans;
 * ksmd's CPU over the watch within the policy's budget; the growth of the daemon's per-VM reclaimed memory is
 * the QEMU RSS drop, plus at most the never-backed pages the scrub wrote, within {@link #CONTROLLER_TOLERANCE}
 * ({@link #controllerAgrees}). Also records how the RSS came back (THP split, zero subpages to the zero
 * page), beside the init_on_free guest's.
 */
final class AgentScrubPhase implements Phase<AgentScrubPhase.Result> {
    /**
     * The target after a scrub with the boost: a zeroed page merges on ksmd's second visit after the
     * zeroing (the checksum must hold still), and with smart_scan=0 every page is visited every full scan:
     * the scan in progress, then two more (issue 15).
     */
    static final long BOOSTED_FULL_SCANS = 3;
    /** How long the watch goes on when the target is missed, to show by how much. */
    static final long SCRUB_MAX_FULL_SCANS = 12;
    /** The controller's Δreclaimed against the RSS drop measured here (issue 15). */
    static final double CONTROLLER_TOLERANCE = 0.05;
    /** ksmd's CPU budget the daemon runs with, percent of a core; see {@link #POLICY}. */
    static final double CPU_BUDGET_PERCENT = 30;

    /**
     * The adaptive policy as shipped, except: memory is never "plentiful" (this 24 GiB host always is, and
     * the policy would stop ksmd: the tuner comparison below fakes tight memory instead), a decision once an
     * hour (the reclaim boost acts on every sample; the other rules would only hold the suite's rate), and a
     * CPU budget of 30 % of a core, above what ksmd uses at the suite's fixed rate (1000 pages per 20 ms) so
     * that the policy keeps that rate rather than slowing it before the scrub.
     */
    static final String POLICY = """
            mode: adaptive
            interval: 1h
            adaptive:
              memory_plentiful_above_percent: 100
              cpu_budget_percent: %s
            """.formatted((long) CPU_BUDGET_PERCENT);

    /**
     * The daemon's reclaimed memory against the QEMU RSS drop measured here, over the scrub: its growth must be
     * the RSS drop within {@link #CONTROLLER_TOLERANCE}, plus at most the pages the scrub backed first: pages
     * never backed before it (on the huge zero page, as QEMU's reads map never-written guest RAM under TCG, or
     * never touched) that the scrub wrote and KSM then merged with the zero page. Such a page cost the host
     * from the scrub's write to the merge, so a pass that saw it backed in between counts it as reclaimed
     * (docs/RECLAIM.md), while the RSS drop over the whole scrub leaves it out; a pass that did not see it
     * counts it as {@code zero_never_backed}. Which of the two happens depends on where the passes were when
     * ksmd merged them (CI once saw 16 MiB of them counted in one guest and left out in the other):
     * RealKsmGuestMemoryTest pins that rule exactly. Printed beside it: the drop the page states account for
     * (VmRSS counts a page of guest RAM exactly when it is resident or KSM, docs/RECLAIM.md, so Δ(zero + huge
     * zero + swapped + not present)) and the zero-mapped pages that never cost the host.
     */
    static Check controllerAgrees(String guest, long pid, long rssDropBytes, JsonNode before, JsonNode after) {
        long page = after.path("page_size_bytes").asLong();
        long accounted = 0;
        for (String state : List.of("zero", "huge_zero", "swapped", "not_present")) {
            accounted += growth(before, after, state) * page;
        }
        long neverBackedLeft = Math.max(0, -growth(before, after, "huge_zero"))
                + Math.max(0, -(growth(before, after, "not_present") - growth(before, after, "given_back")));
        long backedByTheScrubBytes = Math.max(0, neverBackedLeft - growth(before, after, "zero_never_backed")) * page;
        long reclaimedGrew = after.path("reclaimed_bytes").asLong()
                - before.path("reclaimed_bytes").asLong();
        double slack = CONTROLLER_TOLERANCE * Math.abs(rssDropBytes);
        long beyond = reclaimedGrew < rssDropBytes
                ? rssDropBytes - reclaimedGrew
                : Math.max(0, reclaimedGrew - rssDropBytes - backedByTheScrubBytes);
        return Check.of(
                beyond <= slack,
                "%s: the controller's reclaimed memory (%s) grew by %s over the scrub (%s → %s); /proc/%d/status:"
                        + " VmRSS fell by %s, plus at most %s the scrub backed first (never backed before it, zero-mapped"
                        + " after, not counted never backed): %.1f %% outside that (within %.0f %%). Its page states"
                        + " account for %s; %s zero-mapped that never cost the host (never touched or huge-zero-mapped"
                        + " before)",
                guest,
                after.path("method_label").asText(),
                Mib.format(reclaimedGrew),
                Mib.format(before.path("reclaimed_bytes").asLong()),
                Mib.format(after.path("reclaimed_bytes").asLong()),
                pid,
                Mib.format(rssDropBytes),
                Mib.format(backedByTheScrubBytes),
                rssDropBytes == 0 ? 0 : 100.0 * beyond / Math.abs(rssDropBytes),
                CONTROLLER_TOLERANCE * 100,
                Mib.format(accounted),
                Mib.format(growth(before, after, "zero_never_backed") * page));
    }

    private static long growth(JsonNode before, JsonNode after, String state) {
        return after.path("pages").path(state).asLong()
                - before.path("pages").path(state).asLong();
    }

    /** A decision that wrote smart_scan=0, whichever way the decision document spells its knobs. */
    private static final Pattern SMART_SCAN_OFF = Pattern.compile("smart_scan\"?\\s*[=:]\\s*\"?0\\b");

    /** One guest's QEMU process before and after: {@code zeroed} says by whom and how much. */
    record MechanismRow(String guest, String zeroed, HostMeters.ProcessSample before, HostMeters.ProcessSample after) {}

    /**
     * The phase's figures; {@code start}, {@code end} and {@code smartScan}: the host over the scrub's window;
     * {@code boostDecisions}: the daemon's reclaim-boost decisions, as it recorded them; {@code prediction}:
     * the simulator's for the same phase.
     */
    record Result(
            List<HeadlineRow> headline,
            List<Check> checks,
            List<MechanismRow> mechanism,
            HostMeters.HostSample start,
            HostMeters.HostSample end,
            long smartScan,
            List<String> boostDecisions,
            AgedScrubPrediction prediction)
            implements PhaseResult {}

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
        List<String> names = scrubbed.stream().map(g -> g.name).toList();
        Map<String, Long> freed = guests.freed();
        Map<String, Long> filledRss = noScrub.filledRss();
        long smartScanBefore = HostMeters.ksm("smart_scan");
        Path dir = PhaseDirectory.create("scrub");
        Result result;
        try (ControllerDaemon daemon =
                ControllerDaemon.start(fixture, dir, "memhygiene-run", POLICY, Optional.empty())) {
            daemon.awaitAgents(names);
            Map<String, JsonNode> controllerBefore = daemon.guestMemory(names, Instant.EPOCH);
            Map<String, Long> cpuBeforeScrub = Fleet.cpu(scrubbed);
            Map<String, HostMeters.ProcessSample> beforeScrub = new LinkedHashMap<>();
            for (Guest g : scrubbed) {
                beforeScrub.put(g.name, g.sample());
            }
            HostMeters.HostSample scrubStart = fixture.meters().host();
            Map<String, JsonNode> scrubs = new LinkedHashMap<>();
            fixture.fleet().parallel(scrubbed, g -> {
                JsonNode scrub = daemon.scrub(g.name);
                synchronized (scrubs) {
                    scrubs.put(g.name, scrub);
                }
                return scrub;
            });
            Map<String, Long> cpuAfterScrub = Fleet.cpu(scrubbed);
            for (var e : scrubs.entrySet()) {
                log(
                        "%s: scrub %s, zeroed %s in %d ms",
                        e.getKey(),
                        e.getValue().path("outcome").asText(),
                        Mib.format(e.getValue().path("bytes_zeroed").asLong()),
                        e.getValue().path("duration_millis").asLong());
            }
            Watch.Outcome watch = Watch.run(
                    fixture.meters(),
                    Watch.subjects(scrubbed, filledRss, freed),
                    Watch.RECLAIM_TARGET,
                    SCRUB_MAX_FULL_SCANS,
                    Duration.ofSeconds(900),
                    1);
            Instant watchEnd = Instant.now();
            long smartScanDuringWatch = HostMeters.ksm("smart_scan");
            List<Check> checks = new ArrayList<>();
            for (Guest g : scrubbed) {
                long reclaimed =
                        filledRss.get(g.name) - watch.last().get(g.name).rssBytes();
                Watch.Reached r = watch.reached().get(g.name);
                checks.add(Check.of(
                        r != null && r.fullScans() <= BOOSTED_FULL_SCANS,
                        "%s after the agent's scrub (asked through the daemon's API, aged %d full scans): QEMU RSS fell by %s,"
                                + " %.0f %% of the %s it freed (target %.0f %% within %d full scans), %s",
                        g.name,
                        noScrub.watch().agedFullScans(),
                        Mib.format(reclaimed),
                        100.0 * reclaimed / freed.get(g.name),
                        Mib.format(freed.get(g.name)),
                        Watch.RECLAIM_TARGET * 100,
                        BOOSTED_FULL_SCANS,
                        r == null
                                ? "not within " + SCRUB_MAX_FULL_SCANS + " full scans"
                                : "after " + r.fullScans() + " full scans, " + r.millis() / 1000 + " s"));
            }
            double ksmdCpuPercent = 100.0 * watch.ksmdCpuMillis() / Math.max(1, watch.millis());
            checks.add(Check.of(
                    ksmdCpuPercent <= CPU_BUDGET_PERCENT,
                    "ksmd used %.1f %% of a core over the scrub's watch (%.2f s in %.1f s; the policy's budget %.0f %%)",
                    ksmdCpuPercent,
                    watch.ksmdCpuMillis() / 1000.0,
                    watch.millis() / 1000.0,
                    CPU_BUDGET_PERCENT));
            // The controller's figure from a pass that began after the watch ended, against the RSS read now.
            Map<String, JsonNode> controllerAfter = daemon.guestMemory(names, watchEnd);
            for (Guest g : scrubbed) {
                checks.add(controllerAgrees(
                        g.name,
                        g.pid(),
                        beforeScrub.get(g.name).rssBytes() - g.sample().rssBytes(),
                        controllerBefore.get(g.name),
                        controllerAfter.get(g.name)));
            }
            List<String> boost = daemon.boostDecisions();
            checks.add(Check.of(
                    smartScanBefore == 0
                            || boost.stream()
                                    .anyMatch(d -> SMART_SCAN_OFF.matcher(d).find()),
                    "the daemon's reclaim boost turned smart_scan off after the scrubs (smart_scan %d before, %d at the"
                            + " watch's end; %d boost decisions)",
                    smartScanBefore,
                    smartScanDuringWatch,
                    boost.size()));
            fixture.lap("1 scrub through the daemon and its watch");
            List<HeadlineRow> rows = HeadlineRow.of(
                    "agent scrub (dense, aged, via the daemon's API with its reclaim boost)",
                    scrubbed,
                    freed,
                    filledRss,
                    watch,
                    scrubStart,
                    cpuBeforeScrub,
                    cpuAfterScrub);
            List<MechanismRow> mechanism = new ArrayList<>();
            for (Guest g : scrubbed) {
                mechanism.add(new MechanismRow(
                        g.name,
                        Mib.format(scrubs.get(g.name).path("bytes_zeroed").asLong()),
                        beforeScrub.get(g.name),
                        watch.last().get(g.name)));
            }
            Guest c = guests.initOnFree();
            mechanism.add(new MechanismRow(
                    c.name + " (filled → end of its watch)",
                    "by its kernel on free",
                    noScrub.initOnFreeFilled(),
                    noScrub.watch().last().get(c.name)));
            result = new Result(
                    rows,
                    checks,
                    mechanism,
                    scrubStart,
                    watch.end(),
                    smartScanDuringWatch,
                    boost,
                    AgedScrubPrediction.of(fixture.repository()));
        }
        PhaseDirectory.removeUnlessFailed(dir, result.checks());
        return result;
    }
}
