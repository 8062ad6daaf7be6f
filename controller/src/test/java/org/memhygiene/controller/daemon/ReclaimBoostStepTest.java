package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.TestClock;
import org.memhygiene.controller.cli.HostCli;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.policy.AdaptiveConfig;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.controller.policy.ReclaimBoostConfig;
import org.memhygiene.controller.policy.ScrubRules;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.SysfsTree;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;

/**
 * The reclaim boost in the daemon's policy step, whoever asks for the scrub: the API (through the step),
 * the CLI (a separate client of the agent: only the agent's counters show it) and the policy itself. The
 * VM is libvirt's test driver with the real agent's server behind its channel (its scrubs really zero
 * memory of this JVM); KSM is a sysfs tree of the test's own, so the knobs written and put back are files.
 */
class ReclaimBoostStepTest {
    private static final long SCRUB_BYTES = 16L << 20;

    @TempDir
    Path dir;

    private final TestClock clock = new TestClock();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private ServerSocketChannel agent;
    private LinuxHost host;
    private SysfsTree ksm;
    private String uri;

    /** ksmd running at 100 pages per 20 ms with smart_scan=1; memory tight (the policy scrubs) or moderate. */
    private PolicyConfig start(boolean tight) throws Exception {
        Path socket = dir.resolve("good.sock");
        agent = TestAgent.serve(UnixDomainSocketAddress.of(socket), 50, "test-agent", scheduler);
        uri = new TestDriverHost()
                .domain("good", true, Optional.of(socket), false)
                .write(dir.resolve("host.xml"));
        ksm = SysfsTree.create(dir).put("run", "1").put("use_zero_pages", "1");
        host = new LinuxHost(
                uri, Duration.ofSeconds(2), Duration.ZERO, ksm.root(), Path.of("/proc"), Path.of("/sys"), clock);
        AdaptiveConfig d = AdaptiveConfig.DEFAULTS;
        // This machine's real /proc/meminfo decides tight or not: 100 % makes it tight, 0/100 moderate.
        AdaptiveConfig adaptive = new AdaptiveConfig(
                tight ? 100 : 0,
                100,
                d.cpuBudgetPercent(),
                d.yieldGood(),
                d.yieldLow(),
                d.yieldLowIntervals(),
                d.yieldMinPagesScanned(),
                d.pagesToScanMin(),
                d.pagesToScanMax(),
                d.sleepMillisecsMin(),
                d.sleepMillisecsMax(),
                d.noYieldRetry());
        ScrubRules scrub = new ScrubRules(true, 0, SCRUB_BYTES, 1, Duration.ofMinutes(10));
        return new PolicyConfig(
                PolicyMode.ADAPTIVE,
                Duration.ofSeconds(60),
                PolicyConfig.defaults().ksmtuned(),
                adaptive,
                scrub,
                ReclaimBoostConfig.DEFAULTS);
    }

    private PolicyStep step(PolicyConfig config, boolean dryRun) {
        return new PolicyStep(
                config.policy(), mode -> config.withMode(mode).policy(), config.interval(), host, dryRun, r -> {});
    }

    /** One sample a second after the last, through the step. */
    private HostSnapshot sample(PolicyStep step) {
        clock.now = clock.now.plusSeconds(1);
        HostSnapshot snapshot = host.snapshot();
        step.accept(snapshot);
        return snapshot;
    }

    private String knob(String name) throws Exception {
        return Files.readString(ksm.root().resolve(name)).strip();
    }

    private static String lastReason(PolicyStep step) {
        List<PolicyStep.Record> records = step.records();
        return records.get(records.size() - 1).decision().reason();
    }

    @AfterEach
    void stop() throws Exception {
        if (host != null) {
            host.close();
        }
        if (agent != null) {
            agent.close();
        }
        scheduler.shutdownNow();
    }

    @Test
    void aScrubThroughTheApiBoostsAndStoppingTheDaemonPutsTheKnobsBack() throws Exception {
        PolicyConfig config = start(false);
        PolicyStep step = step(config, false);
        try {
            HostSnapshot first = sample(step);
            String uuid = first.vms().get(0).domain().uuid();
            ScrubReport report = step.scrub(uuid, "good", SCRUB_BYTES, Duration.ofSeconds(30));
            assertTrue(report.bytesZeroed() > 0, report.toString());
            sample(step);
            assertTrue(lastReason(step).startsWith("reclaim boost: scrubs zeroed"), lastReason(step));
            assertTrue(
                    lastReason(step)
                            .contains("good " + ByteSize.format(report.bytesZeroed()) + " (asked through the API)"),
                    lastReason(step));
            assertEquals("0", knob("smart_scan"));
            // How far pages_to_scan rises depends on this machine's real ksmd CPU: ReclaimBoostTest covers it.
        } finally {
            step.close();
        }
        assertEquals("1", knob("smart_scan"), "put back when the daemon stops");
        assertEquals("100", knob("pages_to_scan"));
        assertTrue(lastReason(step).startsWith("reclaim boost ended: the daemon is stopping;"), lastReason(step));
        assertEquals(
                PolicyStep.Result.APPLIED,
                step.records().get(step.records().size() - 1).result());
    }

    @Test
    void aCliScrubIsSeenInTheAgentsCountersAndSwitchingTheModePutsTheKnobsBack() throws Exception {
        PolicyConfig config = start(false);
        try (PolicyStep step = step(config, false)) {
            sample(step);
            // memhygiene vm scrub: another process in production, here the same command in this JVM; either
            // way its own connection to the agent, which the daemon does not see.
            StringWriter out = new StringWriter();
            CommandLine cli = HostCli.commandLine();
            cli.setOut(new PrintWriter(out));
            cli.setErr(new PrintWriter(out));
            assertEquals(0, cli.execute("vm", "scrub", "good", "--uri", uri, "--max-bytes", "16M"), out.toString());
            sample(step);
            assertTrue(
                    lastReason(step)
                            .contains("(1 scrub seen in its agent's scrub counters (the CLI's vm scrub, the"
                                    + " agent's own schedule or another client))"),
                    lastReason(step));
            assertEquals("0", knob("smart_scan"));

            step.switchTo(PolicyMode.BASELINE, false, clock.now);
            assertEquals("1", knob("smart_scan"), "put back before another mode decides");
            assertEquals("100", knob("pages_to_scan"));
            assertTrue(
                    lastReason(step).startsWith("reclaim boost ended: the policy was switched to baseline;"),
                    lastReason(step));
        }
    }

    @Test
    void aScrubThePolicyAsksForStartsOneBoost() throws Exception {
        PolicyConfig config = start(true);
        try (PolicyStep step = step(config, false)) {
            sample(step);
            assertEquals(
                    1,
                    step.records().get(0).decision().scrubs().size(),
                    step.records().get(0).decision().reason());
            // The scrub runs on the step's own thread; the agent's counters show when it is done.
            for (int i = 0;
                    i < 600
                            && host.snapshot()
                                            .vms()
                                            .get(0)
                                            .agent()
                                            .stats()
                                            .map(s -> s.scrub().scrubsRun())
                                            .orElse(0L)
                                    == 0;
                    i++) {
                Thread.sleep(50);
            }
            for (int i = 0; i < 3; i++) {
                sample(step);
            }
            List<String> boosts = step.records().stream()
                    .map(r -> r.decision().reason())
                    .filter(r -> r.startsWith("reclaim boost: scrubs zeroed"))
                    .toList();
            assertEquals(1, boosts.size(), "one scrub, one boost, whichever way it was seen first: " + boosts);
            assertEquals("0", knob("smart_scan"));
        }
    }

    @Test
    void aDryRunBoostsOnPaperOnly() throws Exception {
        PolicyConfig config = start(false);
        try (PolicyStep step = step(config, true)) {
            HostSnapshot first = sample(step);
            step.scrub(first.vms().get(0).domain().uuid(), "good", SCRUB_BYTES, Duration.ofSeconds(30));
            sample(step);
            PolicyStep.Record boost = step.records().get(step.records().size() - 1);
            assertEquals(
                    PolicyStep.Result.DRY_RUN, boost.result(), boost.decision().reason());
            assertEquals("1", knob("smart_scan"));
            sample(step);
            assertTrue(
                    lastReason(step).startsWith("reclaim boost ended: the boost's knobs are not in force"),
                    lastReason(step));
        }
        assertEquals("100", knob("pages_to_scan"));
    }
}
