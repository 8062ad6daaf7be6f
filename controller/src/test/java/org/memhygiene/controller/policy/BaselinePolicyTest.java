package org.memhygiene.controller.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.controller.policy.Samples.GIB;
import static org.memhygiene.controller.policy.Samples.MIB;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.AgentStatus;

/** The baseline mode is KsmtunedBaseline (proven against the real ksmtuned) fed from host samples. */
class BaselinePolicyTest {

    @Test
    void decidesWhatKsmtunedBaselineDecidesOnTheSameInputs() {
        Random random = new Random(42);
        BaselinePolicy policy = new BaselinePolicy(KsmtunedConfig.DEFAULTS);
        KsmtunedBaseline reference = new KsmtunedBaseline(KsmtunedConfig.DEFAULTS);
        Samples s = new Samples();
        s.memTotal = 16 * GIB;
        boolean sawStop = false;
        boolean sawRun = false;
        for (int i = 0; i < 300; i++) {
            Samples next = s.after(60);
            next.memFree = (long) (random.nextDouble() * 5 * GIB);
            next.buffers = random.nextInt(200) * MIB;
            next.cached = (long) (random.nextDouble() * 2 * GIB);
            long guestRss = (long) (random.nextDouble() * 10 * GIB);
            long guestMemory = (long) (random.nextDouble() * 8 * GIB);
            next.vms = List.of(
                    Samples.vm("rss", 12 * GIB, OptionalLong.of(guestRss), AgentStatus.NO_CHANNEL, 0, Optional.empty()),
                    Samples.vm(
                            "norss", guestMemory, OptionalLong.empty(), AgentStatus.NO_CHANNEL, 0, Optional.empty()));
            Decision ours = policy.decide(Optional.of(s.build()), next.build());
            KsmtunedBaseline.Decision theirs = reference.adjust(new KsmtunedBaseline.Input(
                    16 * GIB / 1024,
                    (next.memFree + next.buffers + next.cached) / 1024,
                    (guestRss + guestMemory) / 1024));
            Map<String, String> expected = theirs.run()
                    ? Map.of(
                            "pages_to_scan",
                            Long.toString(theirs.pagesToScan()),
                            "sleep_millisecs",
                            Long.toString(theirs.sleepMillisecs()),
                            "run",
                            "1")
                    : Map.of("run", "0");
            assertEquals(expected, ours.ksmAsMap(), "step " + i + ": " + ours.reason());
            assertTrue(ours.reason().contains(theirs.reason()), ours.reason());
            assertEquals(List.of(), ours.scrubs());
            assertEquals(PolicyMode.BASELINE, ours.mode());
            sawStop |= !theirs.run();
            sawRun |= theirs.run();
            s = next;
        }
        assertTrue(sawStop && sawRun, "the inputs cross ksmtuned's thresholds both ways");
    }

    @Test
    void committedIsQemuRssWhenLibvirtReportsItElseCurrentMemory() {
        Samples s = new Samples();
        s.vms.add(Samples.vm("a", 4 * GIB, OptionalLong.of(3 * GIB), AgentStatus.OK, GIB, Optional.empty()));
        s.vms.add(Samples.vm("b", 2 * GIB, OptionalLong.empty(), AgentStatus.OK, GIB, Optional.empty()));
        KsmtunedBaseline.Input input = BaselinePolicy.input(s.build()).orElseThrow();
        assertEquals(5 * GIB / 1024, input.committedKib());
        assertEquals((8 + 1 + 4) * GIB / 1024, input.freeKib(), "MemFree + Buffers + Cached");
        assertEquals(32 * GIB / 1024, input.memTotalKib());
    }

    @Test
    void withoutKsmItLeavesAlone() {
        Samples s = new Samples();
        s.ksm = null;
        assertTrue(new BaselinePolicy(KsmtunedConfig.DEFAULTS)
                .decide(Optional.empty(), s.build())
                .changesNothing());
    }
}
