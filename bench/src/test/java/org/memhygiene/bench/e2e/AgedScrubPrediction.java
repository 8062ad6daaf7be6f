package org.memhygiene.bench.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.scenario.EventSpec;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * What the simulator predicts for the suite's aged-host phase, from docs/scenarios/aged-scrub.yaml (the same
 * sizes, ages and knobs): the guests free their random data, ksmd ages it {@link NoScrubPhase#AGED_FULL_SCANS}
 * full scans, every guest's agent scrubs, and the full scans until {@link Watch#RECLAIM_TARGET} of what the
 * guests freed is merged with the zero page are counted (the suite's measure: the rest of what the agent
 * zeroes was never backed on the host), with smart_scan left on and with the reclaim boost's smart_scan=0
 * from the scrub on (its raised rate changes the time, not the full scans).
 */
record AgedScrubPrediction(
        long agedFullScans,
        long freedBytes,
        long zeroedBytes,
        OptionalLong fullScansWithSmartScan,
        OptionalLong fullScansWithBoost) {
    static final Path SCENARIO = Path.of("docs/scenarios/aged-scrub.yaml");
    /** When the scenario's guests have freed their data (its allocate event: at 5 s, held 25 s). */
    private static final Duration FREED_AT = Duration.ofSeconds(31);

    private static final Duration STEP = Duration.ofSeconds(1);
    /** Full scans after the scrub that a prediction watches at most. */
    static final long MAX_FULL_SCANS = 30;

    static AgedScrubPrediction of(Path repo) {
        Outcome withSmartScan = run(repo.resolve(SCENARIO), false);
        Outcome boosted = run(repo.resolve(SCENARIO), true);
        return new AgedScrubPrediction(
                boosted.agedFullScans,
                boosted.freedBytes,
                boosted.zeroedBytes,
                withSmartScan.fullScans,
                boosted.fullScans);
    }

    private record Outcome(long agedFullScans, long freedBytes, long zeroedBytes, OptionalLong fullScans) {}

    private static Outcome run(Path scenario, boolean boost) {
        Scenario parsed = ScenarioParser.load(scenario);
        // What the guests allocated and freed: each allocate event's bytes in every guest it names (all by default).
        long freed = parsed.events().stream()
                .filter(e -> e.action() == EventSpec.Action.ALLOCATE)
                .mapToLong(e -> e.bytes()
                        * (e.guests().isEmpty()
                                ? parsed.guests().size()
                                : e.guests().size()))
                .sum();
        Simulation sim = new Simulation(parsed);
        sim.advance(FREED_AT);
        long freedAt = fullScans(sim);
        while (fullScans(sim) < freedAt + NoScrubPhase.AGED_FULL_SCANS) {
            sim.advance(STEP);
        }
        long aged = fullScans(sim) - freedAt;
        long zeroPagesBefore = zeroPages(sim);
        long zeroed = 0;
        for (var guest : List.of(sim.guest("dense-1"), sim.guest("dense-2"))) {
            zeroed += sim.scrub(guest, Long.MAX_VALUE).bytesZeroed();
        }
        if (boost) {
            sim.applyKsm(KsmSettings.parse(List.of("smart_scan=0")));
        }
        long scrubbedAt = fullScans(sim);
        while (fullScans(sim) - scrubbedAt <= MAX_FULL_SCANS) {
            if ((zeroPages(sim) - zeroPagesBefore) * sim.pageSizeBytes() >= Watch.RECLAIM_TARGET * freed) {
                return new Outcome(aged, freed, zeroed, OptionalLong.of(fullScans(sim) - scrubbedAt));
            }
            sim.advance(STEP);
        }
        return new Outcome(aged, freed, zeroed, OptionalLong.empty());
    }

    private static long fullScans(Simulation sim) {
        return sim.ksmStats().fullScans().orElseThrow();
    }

    private static long zeroPages(Simulation sim) {
        KsmStats stats = sim.ksmStats();
        return stats.ksmZeroPages().orElseThrow();
    }
}
