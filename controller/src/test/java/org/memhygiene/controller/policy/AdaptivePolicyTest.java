package org.memhygiene.controller.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.controller.policy.Samples.GIB;
import static org.memhygiene.controller.policy.Samples.MIB;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.PostureLevel;

/** AdaptivePolicy's rules on hand-built sample pairs and sequences (docs/POLICY.md, "Adaptive"). */
class AdaptivePolicyTest {
    private final AdaptivePolicy policy =
            new AdaptivePolicy(AdaptiveConfig.DEFAULTS, ScrubRules.DEFAULTS, ReclaimBoostConfig.DEFAULTS);

    /** KSM running at {@code pages}/20 ms with use_zero_pages=1 on a 32 GiB host with 1.2 GiB available. */
    private static Samples tightAndRunning(long pages) {
        Samples s = new Samples();
        s.memAvailable = 1200 * MIB;
        s.set("run", 1)
                .set("pages_to_scan", pages)
                .set("use_zero_pages", 1)
                .set("pages_scanned", 5_000_000)
                .set("pages_sharing", 100_000)
                .set("full_scans", 10);
        s.ksmdCpuMillis = 50_000;
        return s;
    }

    /** Writes what the decision writes into the next sample, as KsmSysfs.apply would. */
    private static void apply(Decision decision, Samples next) {
        decision.ksmAsMap().forEach((file, value) -> next.set(file, Long.parseLong(value)));
    }

    @Test
    void tightMemoryAndGoodYieldScanMoreWithinTheCpuBudget() {
        Samples before = tightAndRunning(1250);
        Samples after = before.after(60)
                .add("pages_scanned", 300_000)
                .add("pages_sharing", 60_000)
                .add("ksm_zero_pages", 33_000);
        after.ksmdCpuMillis += 240; // 0.4 % of a core over 60 s
        Decision d = policy.decide(Optional.of(before.build()), after.build());
        assertEquals(Map.of("pages_to_scan", "2500"), d.ksmAsMap(), d.reason());
        assertTrue(d.reason().contains("host MemAvailable 1.2 GiB < 20% threshold 6.4 GiB"), d.reason());
        assertTrue(d.reason().contains("merge yield 0.31 merged pages per scanned page (93000/300000)"), d.reason());
        assertTrue(d.reason().contains("ksmd used 0.4% of a core (budget 5.0%)"), d.reason());
        assertTrue(d.reason().endsWith("pages_to_scan 1250→2500"), d.reason());
        assertEquals(PolicyMode.ADAPTIVE, d.mode());
    }

    @Test
    void theScaleUpStopsAtTheCpuBudget() {
        Samples before = tightAndRunning(1000);
        Samples after = before.after(60).add("pages_scanned", 300_000).add("pages_sharing", 90_000);
        after.ksmdCpuMillis += 2400; // 4 % of a core: 5/4 = 1.25 more at most
        Decision d = policy.decide(Optional.of(before.build()), after.build());
        assertEquals(Map.of("pages_to_scan", "1250"), d.ksmAsMap(), d.reason());

        Samples atBudget = after.after(60).add("pages_scanned", 300_000).add("pages_sharing", 90_000);
        atBudget.ksmdCpuMillis += 2900; // 4.8 %: less than 10 % headroom, not worth a write
        Decision hold = policy.decide(Optional.of(after.build()), atBudget.build());
        assertTrue(hold.ksm().isEmpty(), hold.reason());
        assertTrue(hold.reason().contains("at the CPU budget"), hold.reason());
    }

    @Test
    void atMaximumPagesItSleepsLessInstead() {
        Samples before = tightAndRunning(10_000).set("sleep_millisecs", 200);
        Samples after = before.after(60).add("pages_scanned", 300_000).add("pages_sharing", 90_000);
        after.ksmdCpuMillis += 600; // 1 %: doubling is within budget
        Decision d = policy.decide(Optional.of(before.build()), after.build());
        assertEquals(Map.of("sleep_millisecs", "100"), d.ksmAsMap(), d.reason());
    }

    @Test
    void overTheCpuBudgetItScansLessEvenWithGoodYield() {
        Samples before = tightAndRunning(1250);
        Samples after = before.after(60).add("pages_scanned", 300_000).add("pages_sharing", 90_000);
        after.ksmdCpuMillis += 6000; // 10 % of a core, budget 5 %
        Decision d = policy.decide(Optional.of(before.build()), after.build());
        assertEquals(Map.of("pages_to_scan", "625"), d.ksmAsMap(), d.reason());
        assertTrue(d.reason().contains("ksmd used 10% of a core (budget 5.0%)"), d.reason());
        assertTrue(d.reason().contains("over the CPU budget: scan less"), d.reason());

        Samples atMinimum = tightAndRunning(100);
        Samples next = atMinimum.after(60).add("pages_scanned", 300_000);
        next.ksmdCpuMillis += 6000;
        Decision slower = policy.decide(Optional.of(atMinimum.build()), next.build());
        assertEquals(Map.of("sleep_millisecs", "40"), slower.ksmAsMap(), "at pages_to_scan_min it sleeps longer");
    }

    @Test
    void zeroYieldBacksOffStepByStepThenStopsLeavingMergedPagesMerged() {
        AdaptivePolicy p = new AdaptivePolicy(
                new AdaptiveConfig(20, 40, 5, 0.05, 0.001, 3, 1000, 100, 10_000, 20, 80, Duration.ofMinutes(30)),
                ScrubRules.DEFAULTS,
                ReclaimBoostConfig.DEFAULTS);
        Samples s = tightAndRunning(400);
        List<String> steps = new ArrayList<>();
        Decision d = null;
        for (int i = 0; i < 12; i++) {
            Samples next = s.after(60).add("pages_scanned", 200_000).add("full_scans", 1);
            next.ksmdCpuMillis += 100;
            d = p.decide(Optional.of(s.build()), next.build());
            steps.add(d.ksmAsMap().toString());
            apply(d, next);
            s = next;
            if ("0".equals(d.ksmAsMap().get("run"))) {
                break;
            }
        }
        // Two intervals of waiting (yield_low_intervals = 3), then halve pages to the minimum, then double the
        // sleep to its maximum, then run=0.
        assertEquals(
                List.of(
                        "{}",
                        "{}",
                        "{pages_to_scan=200}",
                        "{pages_to_scan=100}",
                        "{sleep_millisecs=40}",
                        "{sleep_millisecs=80}",
                        "{run=0}"),
                steps);
        assertTrue(d.reason().contains("merged pages stay merged"), d.reason());
        assertTrue(d.reason().contains("yield under 0.0010 for 7 intervals and 7 full scans"), d.reason());

        // Memory is still tight, but it stays stopped until no_yield_retry has passed...
        Samples stopped = s.after(60);
        Decision wait = p.decide(Optional.of(s.build()), stopped.build());
        assertTrue(wait.ksm().isEmpty(), wait.reason());
        assertTrue(wait.reason().contains("stay stopped until 2026-01-01T00:37:00Z"), wait.reason());
        // ...then tries again from the slowest start.
        Samples later = stopped.after(30 * 60);
        Decision retry = p.decide(Optional.of(stopped.build()), later.build());
        assertEquals("1", retry.ksmAsMap().get("run"), retry.reason());
    }

    @Test
    void lowYieldBeforeTwoFullScansIsNotJudged() {
        // A page merges only on ksmd's second look at it: without two full scans, no back-off.
        Samples s = tightAndRunning(400);
        for (int i = 0; i < 6; i++) {
            Samples next = s.after(60).add("pages_scanned", 200_000);
            Decision d = policy.decide(Optional.of(s.build()), next.build());
            assertTrue(d.ksm().isEmpty(), d.reason());
            assertTrue(d.reason().contains("0 of 2 full scans: wait before backing off"), d.reason());
            s = next;
        }
    }

    @Test
    void plentifulMemoryStopsScanning() {
        Samples before = tightAndRunning(1250);
        before.memAvailable = 20 * GIB;
        Samples after = before.after(60).add("pages_scanned", 300_000).add("pages_sharing", 90_000);
        Decision d = policy.decide(Optional.of(before.build()), after.build());
        assertEquals(Map.of("run", "0"), d.ksmAsMap(), d.reason());
        assertTrue(d.reason().contains("run 1→0 (merged pages stay merged)"), d.reason());
        assertTrue(d.scrubs().isEmpty());

        // The same free memory, but the guests could take it: not plentiful, KSM keeps running.
        after.vms.add(Samples.vm("big", 28 * GIB, OptionalLong.empty(), AgentStatus.OK, GIB, Optional.empty()));
        Decision keep = new AdaptivePolicy(AdaptiveConfig.DEFAULTS, ScrubRules.DEFAULTS, ReclaimBoostConfig.DEFAULTS)
                .decide(Optional.of(before.build()), after.build());
        assertTrue(keep.ksm().isEmpty(), keep.reason());
        assertTrue(
                keep.reason().contains("guests' current memory 28.0 GiB + 6.4 GiB > MemTotal 32.0 GiB"), keep.reason());
    }

    @Test
    void tightMemoryStartsKsmWithZeroPages() {
        Samples before = new Samples();
        before.memAvailable = 2 * GIB;
        Decision d = policy.decide(Optional.empty(), before.build());
        assertEquals(
                Map.of("use_zero_pages", "1", "run", "1"), d.ksmAsMap(), d.reason()); // 100 pages, 20 ms already set
        assertEquals(List.of("use_zero_pages", "run"), List.copyOf(d.ksmAsMap().keySet()), "run is written last");
        assertTrue(d.reason().contains("no previous sample"), d.reason());

        Samples moderate = new Samples();
        moderate.memAvailable = 10 * GIB;
        assertTrue(policy.decide(Optional.empty(), moderate.build()).ksm().isEmpty(), "not tight: stays stopped");
    }

    @Test
    void noKsmNoDecision() {
        Samples s = new Samples();
        s.ksm = null;
        Decision d = policy.decide(Optional.empty(), s.build());
        assertTrue(d.changesNothing());
        assertTrue(d.reason().startsWith("no KSM on this host"), d.reason());
    }

    @Test
    void scrubsGuestsWithMuchFreeMemoryNeverSensitiveOrAgentlessAndBounded() {
        Samples before = tightAndRunning(1250);
        before.vms.addAll(List.of(
                Samples.vm("alpha", 6 * GIB),
                Samples.vm("beta", 8 * GIB, OptionalLong.empty(), AgentStatus.OK, 3 * GIB, Optional.empty()),
                Samples.vm("gamma", 2 * GIB),
                Samples.vm(
                        "secret",
                        8 * GIB,
                        OptionalLong.empty(),
                        AgentStatus.OK,
                        7 * GIB,
                        Optional.of(PostureLevel.SENSITIVE)),
                Samples.vm("silent", 8 * GIB, OptionalLong.empty(), AgentStatus.TIMEOUT, 7 * GIB, Optional.empty()),
                Samples.vm("agentless", 8 * GIB, OptionalLong.empty(), AgentStatus.NO_CHANNEL, 0, Optional.empty()),
                Samples.vm("busy", 100 * MIB)));
        Samples after = before.after(60);
        Decision d = policy.decide(Optional.of(before.build()), after.build());
        assertEquals(
                List.of(
                        new ScrubRequest("uuid-alpha", "alpha", 512 * MIB),
                        new ScrubRequest("uuid-beta", "beta", 512 * MIB)),
                d.scrubs(),
                "the two with the most free memory, at most max_bytes_per_request each: " + d.reason());
        assertTrue(d.reason().contains("scrub alpha (up to 512.0 MiB), beta (up to 512.0 MiB)"), d.reason());

        // A minute later alpha and beta were asked recently: gamma is next; the others never.
        Samples third = after.after(60);
        Decision next = policy.decide(Optional.of(after.build()), third.build());
        assertEquals(
                List.of("gamma"),
                next.scrubs().stream().map(ScrubRequest::vmName).toList(),
                next.reason());
        // After min_interval_per_vm, alpha and beta again.
        Samples later = third.after(600);
        assertEquals(
                List.of("alpha", "beta"),
                policy.decide(Optional.of(third.build()), later.build()).scrubs().stream()
                        .map(ScrubRequest::vmName)
                        .toList());

        ScrubRules small = new ScrubRules(true, GIB, 256 * MIB, 1, Duration.ZERO);
        assertEquals(
                List.of(new ScrubRequest("uuid-alpha", "alpha", 256 * MIB)),
                new AdaptivePolicy(AdaptiveConfig.DEFAULTS, small, ReclaimBoostConfig.DEFAULTS)
                        .decide(Optional.of(before.build()), after.build())
                        .scrubs());
        ScrubRules off = new ScrubRules(false, GIB, 256 * MIB, 1, Duration.ZERO);
        assertEquals(
                List.of(),
                new AdaptivePolicy(AdaptiveConfig.DEFAULTS, off, ReclaimBoostConfig.DEFAULTS)
                        .decide(Optional.of(before.build()), after.build())
                        .scrubs());

        Samples roomy = after.after(60);
        roomy.memAvailable = 10 * GIB;
        assertEquals(
                List.of(),
                new AdaptivePolicy(AdaptiveConfig.DEFAULTS, ScrubRules.DEFAULTS, ReclaimBoostConfig.DEFAULTS)
                        .decide(Optional.of(after.build()), roomy.build())
                        .scrubs(),
                "no scrub while memory is not tight");
    }
}
