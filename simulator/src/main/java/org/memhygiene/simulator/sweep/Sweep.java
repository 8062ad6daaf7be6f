package org.memhygiene.simulator.sweep;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;

/**
 * Runs one scenario over a grid of KSM policies x guest hygiene modes and reports, per cell, the memory
 * reclaimed against what it exposes: the frontier the dashboard plots and {@code memhygiene sim sweep}
 * prints. Each cell is an independent, deterministic simulation (same seed).
 */
public final class Sweep {
    private Sweep() {
    }

    /** KSM off, kernel defaults, defaults plus zero pages, and a fast scan with zero pages. */
    public static List<SweepPolicy> defaultPolicies() {
        return List.of(
                new SweepPolicy("off", KsmSettings.parse(List.of("run=0"))),
                new SweepPolicy("default", KsmSettings.parse(List.of("run=1", "pages_to_scan=100", "sleep_millisecs=20",
                        "use_zero_pages=0"))),
                new SweepPolicy("zero-pages", KsmSettings.parse(List.of("run=1", "pages_to_scan=100", "sleep_millisecs=20",
                        "use_zero_pages=1"))),
                new SweepPolicy("fast+zero", KsmSettings.parse(List.of("run=1", "pages_to_scan=1000", "sleep_millisecs=10",
                        "use_zero_pages=1"))));
    }

    public static List<HygieneMode> defaultModes() {
        return List.of(HygieneMode.values());
    }

    /** The default grid over the scenario's own duration. */
    public static List<SweepResult> run(Scenario scenario) {
        return run(scenario, defaultPolicies(), defaultModes(), scenario.duration());
    }

    public static List<SweepResult> run(Scenario scenario, List<SweepPolicy> policies, List<HygieneMode> modes,
            Duration duration) {
        if (policies.isEmpty() || modes.isEmpty()) {
            throw new IllegalArgumentException("a sweep needs at least one policy and one hygiene mode");
        }
        List<SweepResult> results = new ArrayList<>();
        Clock fixed = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        for (SweepPolicy policy : policies) {
            for (HygieneMode mode : modes) {
                Scenario cell = withPolicy(withMode(scenario, mode), policy.settings());
                try (SimulatedHost host = SimulatedHost.of(cell, fixed, 1)) {
                    host.advance(duration);
                    Exposure e = host.exposure();
                    results.add(new SweepResult(policy.label() + " / " + mode.label(), policy.label(), policy.settings(),
                            mode, e.reclaimedBytes(), e, host.snapshot(), false));
                }
            }
        }
        return markFrontier(results);
    }

    static List<SweepResult> markFrontier(List<SweepResult> results) {
        List<SweepResult> marked = new ArrayList<>();
        for (SweepResult r : results) {
            boolean dominated = results.stream().anyMatch(o -> o != r
                    && o.reclaimedBytes() >= r.reclaimedBytes()
                    && o.exposure().crossVmMergedNonZeroPages() <= r.exposure().crossVmMergedNonZeroPages()
                    && o.exposure().staleSecretPageSeconds() <= r.exposure().staleSecretPageSeconds()
                    && (o.reclaimedBytes() > r.reclaimedBytes()
                    || o.exposure().crossVmMergedNonZeroPages() < r.exposure().crossVmMergedNonZeroPages()
                    || o.exposure().staleSecretPageSeconds() < r.exposure().staleSecretPageSeconds()));
            marked.add(r.onFrontier(!dominated));
        }
        return List.copyOf(marked);
    }

    /** Every guest in {@code mode}; agent_scrub brings the agent, other modes keep the scenario's choice. */
    static Scenario withMode(Scenario s, HygieneMode mode) {
        List<GuestSpec> guests = new ArrayList<>();
        for (GuestSpec g : s.guests()) {
            GuestSpec.Hygiene h = g.hygiene();
            guests.add(new GuestSpec(g.name(), g.uuid(), g.image(), g.memoryBytes(), g.vcpus(), g.posture(),
                    g.noSharePages(), g.numaNode(), g.startAt(), g.boot(), g.layout(), g.sharing(), g.freeMemory(),
                    g.churn(), new GuestSpec.Hygiene(mode, h.agent() || mode == HygieneMode.AGENT_SCRUB, h.scrub(),
                    h.freePageReporting()), g.balloon() || mode == HygieneMode.FREE_PAGE_REPORTING,
                    g.balloonStatsPeriodSeconds(), g.kernel()));
        }
        return s.withGuests(guests);
    }

    static Scenario withPolicy(Scenario s, KsmSettings settings) {
        Map<KsmKnob, String> ksm = new EnumMap<>(KsmKnob.class);
        ksm.putAll(s.ksm());
        settings.inWriteOrder().forEach(e -> ksm.put(e.getKey(), e.getValue()));
        return s.withKsm(ksm);
    }
}
