package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.TestClock;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.policy.Decision;
import org.memhygiene.controller.policy.Policy;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.SysfsTree;

/** The loop's policy step on real snapshots (test driver, a KSM tree): the interval, applying, dry runs. */
class PolicyStepTest {
    @TempDir
    Path dir;

    private final TestClock clock = new TestClock();
    private LinuxHost host;
    private SysfsTree ksm;

    /** A policy that always wants pages_to_scan=777 and remembers what it was shown. */
    private static final class Wants777 implements Policy {
        final List<Optional<HostSnapshot>> previous = new ArrayList<>();

        @Override
        public Decision decide(Optional<HostSnapshot> before, HostSnapshot current) {
            previous.add(before);
            return new Decision(
                    Optional.of(KsmSettings.parse(List.of("pages_to_scan=777"))),
                    List.of(),
                    PolicyMode.ADAPTIVE,
                    "test");
        }

        @Override
        public PolicyMode mode() {
            return PolicyMode.ADAPTIVE;
        }
    }

    private LinuxHost host() throws Exception {
        String uri = new TestDriverHost()
                .domain("web1", true, Optional.empty(), false)
                .write(dir.resolve("host.xml"));
        ksm = SysfsTree.create(dir);
        host = new LinuxHost(
                uri, Duration.ofSeconds(1), Duration.ZERO, ksm.root(), Path.of("/proc"), Path.of("/sys"), clock);
        return host;
    }

    @AfterEach
    void close() {
        if (host != null) {
            host.close();
        }
    }

    @Test
    void decidesOncePerIntervalWithThePreviousDecisionsSnapshotAndApplies() throws Exception {
        LinuxHost host = host();
        Wants777 policy = new Wants777();
        List<PolicyStep.Record> recorded = new ArrayList<>();
        try (PolicyStep step =
                new PolicyStep(policy, mode -> new Wants777(), Duration.ofSeconds(60), host, false, recorded::add)) {
            HostSnapshot first = host.snapshot();
            step.accept(first);
            assertEquals(
                    "777", Files.readString(ksm.root().resolve("pages_to_scan")).strip());
            clock.now = clock.now.plusSeconds(30);
            step.accept(host.snapshot());
            clock.now = clock.now.plusSeconds(31);
            step.accept(host.snapshot());
            assertEquals(2, policy.previous.size(), "decided at 0 s and 61 s, not at 30 s");
            assertEquals(Optional.empty(), policy.previous.get(0));
            assertEquals(first.sampledAt(), policy.previous.get(1).orElseThrow().sampledAt());
            assertEquals(
                    List.of("applied", "applied"),
                    step.records().stream().map(PolicyStep.Record::outcome).toList());
            assertEquals(step.records(), recorded, "the recorder (the history) gets every decision");
        }
    }

    @Test
    void aDryRunDecidesButWritesNothing() throws Exception {
        LinuxHost host = host();
        try (PolicyStep step =
                new PolicyStep(new Wants777(), mode -> new Wants777(), Duration.ofSeconds(60), host, true, r -> {})) {
            step.accept(host.snapshot());
            assertEquals(
                    "100", Files.readString(ksm.root().resolve("pages_to_scan")).strip());
            assertEquals(
                    "dry run: nothing written, no scrub asked",
                    step.records().get(0).outcome());
        }
    }

    @Test
    void switchingTheModeAndTheDryRunTakesEffectOnTheNextSampleAndIsRecorded() throws Exception {
        LinuxHost host = host();
        Policy off = PolicyConfig.defaults().withMode(PolicyMode.OFF).policy();
        try (PolicyStep step = new PolicyStep(
                new Wants777(),
                mode -> mode == PolicyMode.OFF ? off : new Wants777(),
                Duration.ofSeconds(60),
                host,
                true,
                r -> {})) {
            step.accept(host.snapshot());
            assertEquals(PolicyStep.Result.DRY_RUN, step.records().get(0).result());
            assertEquals(
                    "100", Files.readString(ksm.root().resolve("pages_to_scan")).strip());

            PolicyStep.State state = step.switchTo(PolicyMode.OFF, false, clock.now);
            assertEquals(
                    new PolicyStep.State(PolicyMode.OFF, false, Duration.ofSeconds(60), Optional.of(clock.now)), state);
            clock.now = clock.now.plusSeconds(1);
            step.accept(host.snapshot());
            assertEquals(2, step.records().size(), "a switch decides on the next sample, not a policy interval later");
            PolicyStep.Record offRecord = step.records().get(1);
            assertEquals(PolicyMode.OFF, offRecord.decision().mode());
            assertEquals("nothing to do", offRecord.outcome());
            assertEquals(
                    "100", Files.readString(ksm.root().resolve("pages_to_scan")).strip(), "off writes nothing");

            step.switchTo(PolicyMode.ADAPTIVE, false, clock.now);
            clock.now = clock.now.plusSeconds(1);
            step.accept(host.snapshot());
            assertEquals(PolicyStep.Result.APPLIED, step.records().get(2).result());
            assertEquals(
                    "777", Files.readString(ksm.root().resolve("pages_to_scan")).strip(), "no longer a dry run");
            assertEquals(
                    Map.of(
                            PolicyMode.ADAPTIVE,
                            Map.of(PolicyStep.Result.DRY_RUN, 1L, PolicyStep.Result.APPLIED, 1L),
                            PolicyMode.OFF,
                            Map.of(PolicyStep.Result.NOTHING_TO_DO, 1L)),
                    step.counts());
        }
    }
}
