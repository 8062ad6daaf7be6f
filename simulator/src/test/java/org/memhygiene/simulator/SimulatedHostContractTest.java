package org.memhygiene.simulator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostBackendContract;
import org.memhygiene.simulator.scenario.ScenarioParser;

/** The HostBackend contract on the simulator: three guests of one image, KSM merging them as the kernel would. */
class SimulatedHostContractTest extends HostBackendContract {
    private static final String SCENARIO = """
            name: contract
            ksm: {run: 1, pages_to_scan: 1000, sleep_millisecs: 10}
            defaults: {memory: 64MiB, boot: 0s, image: contract}
            guests:
              - {name: %s, hygiene: {mode: agent_scrub}}
              - {name: %s}
              - {name: %s, start_at: never, hygiene: {mode: agent_scrub}}
            """.formatted(WITH_AGENT, WITHOUT_AGENT, STOPPED);

    private SimulatedHost simulated;

    @Override
    protected HostBackend open() {
        // A fixed clock: simulated time moves only when the test advances it.
        simulated = SimulatedHost.of(
                ScenarioParser.parse(SCENARIO, "contract.yaml"),
                Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC),
                1);
        simulated.advance(Duration.ofSeconds(1)); // the guests that start at 0 s boot
        return simulated;
    }

    @Override
    protected void untilPagesShared(HostBackend host) {
        for (int minute = 0; minute < 60; minute++) {
            if (host.snapshot().ksm().orElseThrow().stats().pagesShared().orElseThrow() > 0) {
                return;
            }
            simulated.advance(Duration.ofMinutes(1));
        }
        throw new AssertionError("the simulated ksmd shared nothing of two guests of one image in an hour");
    }

    @Override
    protected void assumeKsmWritable() {
        // a simulated host's knobs always are
    }
}
