package org.memhygiene.controller.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.controller.policy.Samples.GIB;
import static org.memhygiene.controller.policy.Samples.MIB;
import static org.memhygiene.controller.policy.Samples.PAGE;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.GuestFindings;

/**
 * The adaptive policy's reclaim boost on recorded sample sequences (docs/POLICY.md, "Reclaim boost"): what
 * starts it (a scrub seen in the agent's counters, one the policy asked for, one asked through the API),
 * how the CPU budget paces it, when it ends and what it puts back.
 */
class ReclaimBoostTest {
    private static final long ZEROED = 300 * MIB;
    private final AdaptivePolicy policy =
            new AdaptivePolicy(AdaptiveConfig.DEFAULTS, ScrubRules.DEFAULTS, ReclaimBoostConfig.DEFAULTS);
    /** Every decision of a sequence, for the failure messages. */
    private final List<String> reasons = new ArrayList<>();

    /**
     * ksmd running at 100 pages per 20 ms with smart_scan=1 and use_zero_pages=1, on a 32 GiB host with
     * moderate memory (the adaptive rules hold), one VM "web" whose agent has not scrubbed yet.
     */
    private static Samples running() {
        Samples s = new Samples();
        s.memAvailable = 10 * GIB;
        s.set("run", 1)
                .set("use_zero_pages", 1)
                .set("smart_scan", 1)
                .set("pages_scanned", 5_000_000)
                .set("pages_skipped", 2_000_000)
                .set("full_scans", 100);
        s.ksmdCpuMillis = 40_000;
        s.vms.add(web(ScrubCounters.NONE, 0));
        return s;
    }

    private static VmSnapshot web(ScrubCounters scrubs, long zeroPages) {
        return Samples.scrubbing("web", scrubs, OptionalLong.of(zeroPages), false, BalloonStats.NONE);
    }

    /** The next sample one second on, with what {@code decision} writes applied as KsmSysfs.apply would. */
    private static Samples next(Samples s, Optional<Decision> decision) {
        Samples next = s.after(1);
        decision.ifPresent(d -> d.ksmAsMap().forEach((file, value) -> next.set(file, Long.parseLong(value))));
        next.ksmdCpuMillis += 5; // 0.5 % of a core
        return next;
    }

    private Optional<Decision> sample(Samples s) {
        Optional<Decision> d = policy.onSample(s.build());
        d.ifPresent(decision -> reasons.add(decision.reason()));
        return d;
    }

    /**
     * The sample five seconds after {@code s} (ksmd's CPU before a boost is measured over at least that
     * long), with ksmd at 0.5 % of a core.
     */
    private static Samples later(Samples s) {
        Samples next = s.after(5);
        next.ksmdCpuMillis += 25;
        return next;
    }

    /** A full scan completes and maps {@code zeroPages} more of web's pages to the zero page. */
    private static Samples fullScan(Samples s, long zeroPagesNow) {
        s.add("full_scans", 1).add("pages_scanned", 80_000);
        s.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), zeroPagesNow));
        return s;
    }

    /** Baseline sample, then one where web's agent counters show a 300 MiB scrub (run from the CLI): the start. */
    private Decision startFromCounters(Samples s0) {
        assertEquals(Optional.empty(), sample(s0), "a first sample only sets the baseline");
        Samples s1 = later(s0);
        s1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        return sample(s1).orElseThrow(() -> new AssertionError("a scrub in the counters starts a boost"));
    }

    @Test
    void aScrubSeenInTheAgentsCountersStartsTheBoost() {
        Decision start = startFromCounters(running());
        assertEquals(Map.of("smart_scan", "0", "pages_to_scan", "200"), start.ksmAsMap(), start.reason());
        assertEquals(PolicyMode.ADAPTIVE, start.mode());
        assertTrue(
                start.reason()
                        .startsWith("reclaim boost: scrubs zeroed 300.0 MiB: web 300.0 MiB (1 scrub seen in its"
                                + " agent's scrub counters"),
                start.reason());
        assertTrue(start.reason().contains("ksmd used 0.5% of a core (budget 5.0%)"), start.reason());
        assertTrue(start.reason().endsWith("pages_to_scan 100→200, smart_scan 1→0"), start.reason());
    }

    @Test
    void theExplainPathShowsTheBoostFromItsTwoSamples() {
        Samples s0 = running();
        Samples s1 = later(s0);
        s1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        Decision d = policy.decide(Optional.of(s0.build()), s1.build());
        assertEquals(Map.of("smart_scan", "0", "pages_to_scan", "200"), d.ksmAsMap(), d.reason());
    }

    @Test
    void aScrubThePolicyAskedForStartsTheBoostAndTheCountersDoNotCountItAgain() {
        Samples s0 = running();
        sample(s0);
        ScrubReport report = Samples.zeroed(200 * MIB);
        policy.scrubbed(new KnownScrub("uuid-web", "web", KnownScrub.Source.POLICY, report));
        Samples s1 = later(s0);
        Decision start = sample(s1).orElseThrow();
        assertTrue(
                start.reason()
                        .startsWith("reclaim boost: scrubs zeroed 200.0 MiB: web 200.0 MiB (asked by the policy)"),
                start.reason());
        Samples s2 = next(s1, Optional.of(start));
        s2.vms.set(0, web(ScrubCounters.NONE.plus(report), 0));
        assertEquals(Optional.empty(), sample(s2), "the same scrub in the counters is not a new one: " + reasons);
    }

    @Test
    void aScrubAskedThroughTheApiStartsTheBoostAlsoWhenTheCountersShowItFirst() {
        Samples s0 = running();
        sample(s0);
        ScrubReport report = Samples.zeroed(64 * MIB);
        Samples s1 = later(s0);
        s1.vms.set(0, web(ScrubCounters.NONE.plus(report), 0)); // the agent's stats came before the API's report
        Decision start = sample(s1).orElseThrow();
        assertTrue(start.reason().contains("web 64.0 MiB (1 scrub seen in its agent's scrub counters"), start.reason());
        policy.scrubbed(new KnownScrub("uuid-web", "web", KnownScrub.Source.API, report));
        Samples s2 = next(s1, Optional.of(start));
        assertEquals(Optional.empty(), sample(s2), "the API's report of the same scrub is not a new one: " + reasons);

        AdaptivePolicy fresh =
                new AdaptivePolicy(AdaptiveConfig.DEFAULTS, ScrubRules.DEFAULTS, ReclaimBoostConfig.DEFAULTS);
        fresh.onSample(running().build());
        fresh.scrubbed(new KnownScrub("uuid-web", "web", KnownScrub.Source.API, report));
        Decision api = fresh.onSample(later(running()).build()).orElseThrow();
        assertTrue(
                api.reason().startsWith("reclaim boost: scrubs zeroed 64.0 MiB: web 64.0 MiB (asked through the API)"),
                api.reason());
        assertEquals("0", api.ksmAsMap().get("smart_scan"), api.reason());
    }

    @Test
    void aKernelWithoutSmartScanGetsTheRateRaisedOnly() {
        Samples s0 = running();
        s0.ksm.remove("smart_scan");
        s0.ksm.remove("pages_skipped");
        Decision start = startFromCounters(s0);
        assertEquals(Map.of("pages_to_scan", "200"), start.ksmAsMap(), start.reason());
        assertTrue(
                start.reason()
                        .contains("this kernel has no smart_scan (before Linux 6.7): the scan rate alone is raised"),
                start.reason());
    }

    @Test
    void withoutFiveSecondsOfKsmdCpuTheRateWaitsForTheFirstBudgetWindow() {
        Samples s0 = running();
        s0.ksm.remove("smart_scan");
        sample(s0);
        Samples s1 = next(s0, Optional.empty()); // one second: CPU ticks of 10 ms make that a poor measure
        s1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        Decision start = sample(s1).orElseThrow();
        assertTrue(start.ksm().isEmpty(), start.reason());
        assertTrue(
                start.reason()
                        .contains(
                                "ksmd's CPU not measured over 5 s yet: the rate follows the first budget" + " window"),
                start.reason());
        Samples s2 = s1.after(5);
        s2.ksmdCpuMillis += 25;
        assertEquals(Map.of("pages_to_scan", "200"), sample(s2).orElseThrow().ksmAsMap(), reasons.toString());
    }

    @Test
    void theCpuBudgetCapsTheRate() {
        // ksmd already near its budget: smart_scan goes off, the rate stays.
        Samples s0 = running();
        sample(s0);
        Samples s1 = s0.after(5);
        s1.ksmdCpuMillis += 240; // 4.8 % of a core, budget 5 %
        s1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        Decision start = sample(s1).orElseThrow();
        assertEquals(Map.of("smart_scan", "0"), start.ksmAsMap(), start.reason());

        // Over the budget during the boost: scan less; under it: more, at most twice per window.
        AdaptivePolicy paced =
                new AdaptivePolicy(AdaptiveConfig.DEFAULTS, ScrubRules.DEFAULTS, ReclaimBoostConfig.DEFAULTS);
        Samples p0 = running().set("pages_to_scan", 1000);
        paced.onSample(p0.build());
        Samples p1 = later(p0);
        p1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        Decision boost = paced.onSample(p1.build()).orElseThrow();
        assertEquals(
                "2000", boost.ksmAsMap().get("pages_to_scan"), "at most twice as fast to start: " + boost.reason());
        Samples p2 = next(p1, Optional.of(boost));
        p2.seconds = p1.seconds + 5;
        p2.ksmdCpuMillis = p1.ksmdCpuMillis + 600; // 12 % of a core over 5 s
        Decision less2 = paced.onSample(p2.build()).orElseThrow();
        assertEquals(Map.of("pages_to_scan", "833"), less2.ksmAsMap(), less2.reason());
        assertTrue(
                less2.reason()
                        .contains("ksmd used 12% of a core over the last 5.0 s (budget 5.0%) → over the CPU budget:"
                                + " scan less: pages_to_scan 2000→833"),
                less2.reason());
        Samples p3 = next(p2, Optional.of(less2));
        p3.seconds = p2.seconds + 5;
        p3.ksmdCpuMillis = p2.ksmdCpuMillis + 50; // 1 %: twice as fast at most
        Decision more = paced.onSample(p3.build()).orElseThrow();
        assertEquals(Map.of("pages_to_scan", "1666"), more.ksmAsMap(), more.reason());
        Samples p4 = next(p3, Optional.of(more));
        p4.seconds = p3.seconds + 5;
        p4.ksmdCpuMillis = p3.ksmdCpuMillis + 240; // 4.8 %: within 10 % of the budget, hold
        assertEquals(Optional.empty(), paced.onSample(p4.build()));

        // The policy's bound caps it too: 6000 × 2 stops at pages_to_scan_max.
        AdaptivePolicy bounded =
                new AdaptivePolicy(AdaptiveConfig.DEFAULTS, ScrubRules.DEFAULTS, ReclaimBoostConfig.DEFAULTS);
        Samples b0 = running().set("pages_to_scan", 6000);
        bounded.onSample(b0.build());
        Samples b1 = later(b0);
        b1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        assertEquals(
                "10000", bounded.onSample(b1.build()).orElseThrow().ksmAsMap().get("pages_to_scan"));
    }

    @Test
    void theBoostEndsWhenTheZeroMappedMemoryStopsGrowingAndPutsTheKnobsBack() {
        Samples s1 = running();
        Decision start = startFromCounters(s1);
        s1 = later(s1);
        s1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        Samples s2 = fullScan(next(s1, Optional.of(start)), 0); // the scan in progress: nothing merged yet
        assertEquals(Optional.empty(), sample(s2), reasons.toString());
        Samples s3 = fullScan(next(s2, Optional.empty()), 0); // the first visit records the zero checksum
        assertEquals(Optional.empty(), sample(s3), "not judged before the third full scan: " + reasons);
        Samples s4 = fullScan(next(s3, Optional.empty()), 290 * MIB / PAGE); // the second visit merges
        assertEquals(Optional.empty(), sample(s4), reasons.toString());
        Samples s5 = fullScan(next(s4, Optional.empty()), 296 * MIB / PAGE); // 6 MiB more: over 1 % of 300 MiB
        assertEquals(Optional.empty(), sample(s5), reasons.toString());
        Samples s6 = fullScan(next(s5, Optional.empty()), 296 * MIB / PAGE);
        Decision end = sample(s6).orElseThrow(() -> new AssertionError("growth stopped: " + reasons));
        assertEquals(Map.of("smart_scan", "1", "pages_to_scan", "100"), end.ksmAsMap(), end.reason());
        assertTrue(
                end.reason()
                        .startsWith("reclaim boost ended: the zero-mapped memory stopped growing 5 full scans"
                                + " after the last scrub"),
                end.reason());
        assertTrue(
                end.reason()
                        .contains("the last 1 full scan: the scrubbed VMs' zero-mapped memory"
                                + " (VmSnapshot.zeroMappedBytes) +0 B (+0 B per full scan)"),
                end.reason());
        assertTrue(
                end.reason()
                        .contains("over the boost's 5 full scans: the scrubbed VMs' zero-mapped memory"
                                + " (VmSnapshot.zeroMappedBytes) +296.0 MiB"),
                end.reason());
        assertTrue(end.reason().endsWith("put back pages_to_scan 200→100, smart_scan 0→1"), end.reason());
        assertEquals(Optional.empty(), sample(next(s6, Optional.of(end))), "nothing more once ended: " + reasons);
        assertTrue(
                policy.decide(
                                Optional.of(s5.build()),
                                next(s6, Optional.of(end)).after(60).build())
                        .reason()
                        .startsWith("host MemAvailable"),
                "the adaptive rules decide again");
    }

    @Test
    void aNewScrubDuringTheBoostExtendsIt() {
        Samples s1 = running();
        Decision start = startFromCounters(s1);
        Samples s2 = fullScan(next(later(s1), Optional.of(start)), 0);
        assertEquals(Optional.empty(), sample(s2), reasons.toString());
        Samples s3 = next(s2, Optional.empty());
        policy.scrubbed(new KnownScrub("uuid-web", "web", KnownScrub.Source.API, Samples.zeroed(100 * MIB)));
        Decision extended = sample(s3).orElseThrow();
        assertTrue(extended.ksm().isEmpty(), extended.reason());
        assertTrue(
                extended.reason()
                        .startsWith("reclaim boost: boost extended: scrubs zeroed 100.0 MiB: web 100.0 MiB (asked"
                                + " through the API)"),
                extended.reason());
        Samples s4 = fullScan(next(s3, Optional.empty()), 0);
        assertEquals(
                Optional.empty(), sample(s4), "judging waits for three full scans after the new scrub: " + reasons);
    }

    /**
     * A guest booted with init_on_free=1 zeroes what it frees: a rise of its MemAvailable of at least
     * init_on_free_min_percent (5 %) of its 8 GiB in one sample starts the boost as a scrub of that size would;
     * a smaller rise, or the same rise in a guest whose kernel does not zero on free, does not.
     */
    @Test
    void aGuestKernelThatZeroesOnFreeStartsTheBoostWhenItFreesEnough() {
        List<Finding> zeroesOnFree = List.of(GuestFindings.initOnFreeOn("/proc/cmdline: init_on_free=1"));
        List<Finding> keepsOldData = List.of(GuestFindings.initOnFreeOff("/proc/cmdline: no init_on_free=1"));
        Samples s0 = running();
        s0.vms.set(0, Samples.reporting(web(ScrubCounters.NONE, 0), 2 * GIB, zeroesOnFree));
        assertEquals(Optional.empty(), sample(s0), "a first sample only sets the baseline");

        Samples s1 = later(s0); // +300 MiB: 3.7 % of 8 GiB, the guest's ordinary churn
        s1.vms.set(0, Samples.reporting(web(ScrubCounters.NONE, 0), 2 * GIB + 300 * MIB, zeroesOnFree));
        assertEquals(Optional.empty(), sample(s1), reasons.toString());

        Samples s2 = later(s1); // +1 GiB, but the guest's kernel leaves freed data in place: nothing zeroed
        s2.vms.set(0, Samples.reporting(web(ScrubCounters.NONE, 0), 3 * GIB + 300 * MIB, keepsOldData));
        assertEquals(Optional.empty(), sample(s2), reasons.toString());

        Samples s3 = later(s2); // the finding seen again: the baseline starts over, then +1 GiB zeroed on free
        s3.vms.set(0, Samples.reporting(web(ScrubCounters.NONE, 0), 2 * GIB, zeroesOnFree));
        assertEquals(Optional.empty(), sample(s3), reasons.toString());
        Samples s4 = later(s3);
        s4.vms.set(0, Samples.reporting(web(ScrubCounters.NONE, 0), 3 * GIB, zeroesOnFree));
        Decision start = sample(s4).orElseThrow(() -> new AssertionError("freeing 1 GiB zeroed it: " + reasons));
        assertEquals(Map.of("smart_scan", "0", "pages_to_scan", "200"), start.ksmAsMap(), start.reason());
        assertTrue(
                start.reason()
                        .startsWith("reclaim boost: scrubs zeroed 1.0 GiB: web 1.0 GiB (its kernel zeroed what it"
                                + " freed: init_on_free=1, MemAvailable 2.0 GiB → 3.0 GiB)"),
                start.reason());
    }

    @Test
    void aKnobChangedUnderTheBoostEndsItAndOnlyTheBoostsOwnGoBack() {
        Samples s1 = running();
        Decision start = startFromCounters(s1);
        Samples s2 = next(later(s1), Optional.of(start)).set("pages_to_scan", 1000); // an admin
        Decision stop = sample(s2).orElseThrow();
        assertEquals(Map.of("smart_scan", "1"), stop.ksmAsMap(), stop.reason());
        assertTrue(
                stop.reason()
                        .startsWith("reclaim boost ended: changed under the boost by someone else (an admin,"
                                + " memhygiene ksm set, PUT /api/v1/settings or another tool): pages_to_scan (the boost wrote 200, now 1000);"
                                + " not fighting them"),
                stop.reason());
        assertEquals(Optional.empty(), sample(next(s2, Optional.of(stop))), "no boost after that: " + reasons);
    }

    @Test
    void knobsThatWereNeverWrittenEndTheBoostWithNothingToPutBack() {
        Samples s1 = running();
        Decision start = startFromCounters(s1);
        Decision stop = sample(next(later(s1), Optional.empty())).orElseThrow(); // a dry run
        assertTrue(stop.ksm().isEmpty(), stop.reason());
        assertTrue(
                stop.reason()
                        .startsWith("reclaim boost ended: the boost's knobs are not in force: pages_to_scan (the"
                                + " boost wrote 200, now 100), smart_scan (the boost wrote 0, now 1)"),
                stop.reason());
    }

    @Test
    void releasingPutsTheBoostsKnobsBack() {
        Samples s1 = running();
        Decision start = startFromCounters(s1);
        HostSnapshot latest = next(later(s1), Optional.of(start)).build();
        Decision back =
                policy.release(latest, "the policy was switched to baseline").orElseThrow();
        assertEquals(Map.of("smart_scan", "1", "pages_to_scan", "100"), back.ksmAsMap(), back.reason());
        assertTrue(
                back.reason().startsWith("reclaim boost ended: the policy was switched to baseline;"), back.reason());
        assertEquals(Optional.empty(), policy.release(latest, "again"), "nothing held any more");
    }

    @Test
    void whileTheBoostRunsTheAdaptiveRulesWait() {
        Samples s1 = running();
        s1.memAvailable = 30 * GIB; // plentiful: the adaptive rules would stop ksmd
        Decision start = startFromCounters(s1);
        Samples s2 = next(later(s1), Optional.of(start));
        Decision d = policy.decide(Optional.of(s1.build()), s2.build());
        assertTrue(d.ksm().isEmpty(), d.reason());
        assertTrue(d.reason().startsWith("reclaim boost in progress"), d.reason());
    }

    @Test
    void noBoostWhileKsmdIsStoppedOrWhenTurnedOff() {
        Samples stopped = running().set("run", 0);
        Decision d = startFromCounters(stopped);
        assertTrue(d.ksm().isEmpty(), d.reason());
        assertTrue(
                d.reason()
                        .endsWith(
                                "ksmd is not running (run=0): no boost; the zeroed memory waits for ksmd: leave as is"),
                d.reason());

        AdaptivePolicy off = new AdaptivePolicy(
                AdaptiveConfig.DEFAULTS,
                ScrubRules.DEFAULTS,
                new ReclaimBoostConfig(false, true, 1, 10, Duration.ofHours(1), 5));
        Samples s0 = running();
        off.onSample(s0.build());
        Samples s1 = later(s0);
        s1.vms.set(0, web(ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)), 0));
        Decision disabled = off.onSample(s1.build()).orElseThrow();
        assertTrue(
                disabled.ksm().isEmpty() && disabled.reason().contains("reclaim_boost.enabled is false"),
                disabled.reason());

        AdaptivePolicy rateOnly = new AdaptivePolicy(
                AdaptiveConfig.DEFAULTS,
                ScrubRules.DEFAULTS,
                new ReclaimBoostConfig(true, false, 1, 10, Duration.ofHours(1), 5));
        rateOnly.onSample(s0.build());
        assertEquals(
                Map.of("pages_to_scan", "200"),
                rateOnly.onSample(s1.build()).orElseThrow().ksmAsMap());
    }

    @Test
    void aVmWithFreePageReportingIsToldWhatWasLeftForTheScrubAndKsm() {
        BalloonStats stats = new BalloonStats(
                OptionalLong.of(4 * GIB),
                OptionalLong.of(2560 * MIB),
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.of(2 * GIB),
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty());
        Samples s0 = running();
        s0.vms.set(0, Samples.scrubbing("web", ScrubCounters.NONE, OptionalLong.of(0), true, stats));
        sample(s0);
        Samples s1 = later(s0);
        s1.vms.set(
                0,
                Samples.scrubbing(
                        "web", ScrubCounters.NONE.plus(Samples.zeroed(GIB)), OptionalLong.of(0), true, stats));
        Decision start = sample(s1).orElseThrow();
        assertTrue(
                start.reason()
                        .contains(
                                "it has free page reporting, which had returned free pages already: of its"
                                        + " 2.5 GiB unused, about 512.0 MiB was still backed on the host (estimate: QEMU RSS 2.0 GiB − (balloon 4.0 GiB"
                                        + " − unused), QEMU's own memory included), so of the 1.0 GiB zeroed at most 512.0 MiB is left for KSM"),
                start.reason());
        assertFalse(start.ksm().isEmpty());
    }

    @Test
    void withoutAPerVmFigureTheHostsSavingsJudgeTheGrowth() {
        Samples s0 = running();
        s0.vms.set(0, Samples.scrubbing("web", ScrubCounters.NONE, OptionalLong.empty(), false, BalloonStats.NONE));
        sample(s0);
        Samples s1 = later(s0);
        s1.vms.set(
                0,
                Samples.scrubbing(
                        "web",
                        ScrubCounters.NONE.plus(Samples.zeroed(ZEROED)),
                        OptionalLong.empty(),
                        false,
                        BalloonStats.NONE));
        Decision start = sample(s1).orElseThrow();
        Samples s = next(s1, Optional.of(start));
        Optional<Decision> end = Optional.empty();
        for (int scan = 1; scan <= 4 && end.isEmpty(); scan++) {
            s = next(s, Optional.empty()).add("full_scans", 1).add("ksm_zero_pages", scan == 2 ? 70_000 : 0);
            end = sample(s);
        }
        assertTrue(
                end.orElseThrow().reason().contains("no per-VM zero-mapped figure; KSM's savings host-wide +0 B"),
                end.get().reason());
        assertTrue(
                end.get().reason().contains("host ksm_zero_pages +70000"),
                end.get().reason());
    }
}
