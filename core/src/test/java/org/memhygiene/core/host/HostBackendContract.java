package org.memhygiene.core.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.core.protocol.AgentProtocol;

/**
 * The {@link HostBackend} contract, one suite for every implementation: the controller's LinuxHost (on
 * libvirt's test driver, with this machine's real KSM and a real agent on a socket) and the simulator's
 * SimulatedHost each extend it with a host of three VMs ({@link #WITH_AGENT}, {@link #WITHOUT_AGENT},
 * {@link #STOPPED}) and a way to make KSM share pages. What a caller may rely on whatever the host: the
 * snapshot's sources, the VM calls by name or UUID, and the typed error of each failure.
 */
public abstract class HostBackendContract {
    /** Runs, and its agent answers. */
    protected static final String WITH_AGENT = "contract-agent";
    /** Runs, without an agent channel. */
    protected static final String WITHOUT_AGENT = "contract-plain";
    /** Shut off, with an agent channel. */
    protected static final String STOPPED = "contract-off";

    private static final Duration SCRUB_TIMEOUT = Duration.ofSeconds(30);

    private HostBackend host;

    /** A fresh host with the three VMs. */
    protected abstract HostBackend open() throws Exception;

    /**
     * Makes KSM share pages on {@code host} (pages_shared above 0) and returns when a snapshot shows it;
     * skips the test, saying why, where that cannot be done here.
     */
    protected abstract void untilPagesShared(HostBackend host) throws Exception;

    /** Skips the test, saying why, where this host's KSM knobs cannot be changed here (not root). */
    protected abstract void assumeKsmWritable();

    /** Puts back what a test changed beyond the host object (a real machine's KSM knobs); also after a failure. */
    protected void restore() throws Exception {}

    @BeforeEach
    void openHost() throws Exception {
        host = open();
    }

    @AfterEach
    void closeHost() throws Exception {
        try {
            host.close();
        } finally {
            restore();
        }
    }

    private VmSnapshot vm(HostSnapshot snapshot, String name) {
        return snapshot.vms().stream()
                .filter(v -> v.domain().name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no VM " + name + " in " + snapshot.vms()));
    }

    @Test
    void aSnapshotHasEveryVmAndEverySourceUp() {
        HostSnapshot snapshot = host.snapshot();
        assertTrue(snapshot.pageSizeBytes() > 0);
        assertTrue(vm(snapshot, WITH_AGENT).domain().state().hasQemuProcess());
        assertTrue(vm(snapshot, WITHOUT_AGENT).domain().state().hasQemuProcess());
        assertFalse(vm(snapshot, STOPPED).domain().state().hasQemuProcess());
        assertEquals(
                AgentStatus.OK,
                vm(snapshot, WITH_AGENT).agent().status(),
                vm(snapshot, WITH_AGENT).agent().problem());
        assertEquals(AgentStatus.NO_CHANNEL, vm(snapshot, WITHOUT_AGENT).agent().status());
        assertEquals(AgentStatus.VM_NOT_RUNNING, vm(snapshot, STOPPED).agent().status());
        assertEquals(List.of(), snapshot.sourcesDown(), "every source answers: " + snapshot.sources());
        assertTrue(
                snapshot.source(SourceState.HOST_MEMORY).isPresent(),
                snapshot.sources().toString());
        assertTrue(snapshot.source(SourceState.agent(WITH_AGENT)).isPresent(), "the running agent is a source");
        assertFalse(snapshot.source(SourceState.agent(WITHOUT_AGENT)).isPresent(), "no channel, no source");
        assertFalse(snapshot.source(SourceState.agent(STOPPED)).isPresent(), "a stopped VM's agent is no source");
        snapshot.sources().forEach(s -> {
            assertEquals(0, s.ageMillis().orElseThrow(), s.name() + " is up: its figures are fresh");
            assertFalse(s.stale(), s.name());
        });
        assertFalse(host.describe().isBlank());
    }

    @Test
    void theAgentOfARunningVmScrubsAndAnswersByNameOrUuid() {
        String uuid = vm(host.snapshot(), WITH_AGENT).domain().uuid();
        ScrubReport report = host.scrub(WITH_AGENT, 1 << 20, SCRUB_TIMEOUT);
        assertNotEquals(ScrubReport.Outcome.FAILED, report.outcome(), report.toString());
        assertTrue(report.bytesZeroed() <= 1 << 20, "at most max_bytes: " + report);
        AgentHello hello = host.ping(uuid);
        assertEquals(AgentProtocol.VERSION, hello.protocolVersion(), "the agent speaks this build's protocol");
        assertTrue(hello.pageSizeBytes() > 0);
        assertTrue(hello.capabilities().contains("scrub"), hello.toString());
    }

    @Test
    void aVmWithoutAnAnsweringAgentIsNotAvailable() {
        HostNotAvailableException noChannel =
                assertThrows(HostNotAvailableException.class, () -> host.scrub(WITHOUT_AGENT, 1 << 20, SCRUB_TIMEOUT));
        assertTrue(
                noChannel.getMessage().contains(WITHOUT_AGENT)
                        && noChannel.getMessage().contains(DomainXml.AGENT_CHANNEL),
                noChannel.getMessage());
        assertThrows(HostNotAvailableException.class, () -> host.ping(WITHOUT_AGENT));
        HostNotAvailableException stopped =
                assertThrows(HostNotAvailableException.class, () -> host.scrub(STOPPED, 1 << 20, SCRUB_TIMEOUT));
        assertTrue(
                stopped.getMessage().contains(STOPPED) && stopped.getMessage().contains("shut off"),
                stopped.getMessage());
        assertThrows(HostNotAvailableException.class, () -> host.ping(STOPPED));
        assertEquals(HostBackendException.Kind.NOT_AVAILABLE, stopped.kind());
    }

    @Test
    void aVmThatIsNotThereIsNoSuchVmNamingTheOnesThatAre() {
        NoSuchVmException scrub =
                assertThrows(NoSuchVmException.class, () -> host.scrub("no-such-vm", 1 << 20, SCRUB_TIMEOUT));
        assertEquals("no-such-vm", scrub.vm());
        assertTrue(
                scrub.known().containsAll(List.of(WITH_AGENT, WITHOUT_AGENT, STOPPED)),
                scrub.known().toString());
        assertThrows(NoSuchVmException.class, () -> host.ping("no-such-vm"));
        assertEquals(HostBackendException.Kind.NO_SUCH_VM, scrub.kind());
    }

    @Test
    void aKnobChangeIsReportedAndSeenInTheNextSnapshot() {
        assumeKsmWritable();
        KsmStats before = host.snapshot().ksm().orElseThrow().stats();
        long pagesToScan = before.pagesToScan().orElseThrow();
        String next = Long.toString(pagesToScan == 1234 ? 1235 : 1234);
        List<KsmChange> changes = host.applyKsm(KsmSettings.of(Map.of(KsmKnob.PAGES_TO_SCAN, next)));
        assertEquals(List.of(new KsmChange(KsmKnob.PAGES_TO_SCAN, Long.toString(pagesToScan), next)), changes);
        assertEquals(
                Long.parseLong(next),
                host.snapshot().ksm().orElseThrow().stats().pagesToScan().orElseThrow());
    }

    @Test
    void aKnobThatChangesOnlyWhileNothingIsSharedIsRefusedWhilePagesAreShared() throws Exception {
        assumeKsmWritable();
        untilPagesShared(host);
        KsmStats before = host.snapshot().ksm().orElseThrow().stats();
        long maxPageSharing = before.maxPageSharing().orElseThrow();
        HostRefusedException refused = assertThrows(
                HostRefusedException.class,
                () -> host.applyKsm(
                        KsmSettings.of(Map.of(KsmKnob.MAX_PAGE_SHARING, Long.toString(maxPageSharing + 1)))));
        assertTrue(
                refused.getMessage().contains("max_page_sharing can change only while no pages are shared"),
                refused.getMessage());
        assertEquals(HostBackendException.Kind.REFUSED, refused.kind());
        if (before.mergeAcrossNodes().isPresent()) {
            long across = before.mergeAcrossNodes().getAsLong();
            assertThrows(
                    HostRefusedException.class,
                    () -> host.applyKsm(KsmSettings.of(Map.of(KsmKnob.MERGE_ACROSS_NODES, Long.toString(1 - across)))));
        }
        KsmStats after = host.snapshot().ksm().orElseThrow().stats();
        assertEquals(before.maxPageSharing(), after.maxPageSharing(), "nothing changed");
        assertEquals(before.mergeAcrossNodes(), after.mergeAcrossNodes(), "nothing changed");
    }

    @Test
    void theHostsFactsAreKnownAndItsBalloonsCanBeAskedForStatistics() {
        HostFacts facts = host.facts().orElseThrow(() -> new AssertionError("a local host knows its swap and nodes"));
        assertTrue(facts.swaps().isPresent(), "swap devices (maybe none) are known");
        assertTrue(facts.numaNodes().orElse(1) >= 1);
        assertTrue(
                host.enableBalloonStats(Duration.ofSeconds(5)).stream()
                        .allMatch(name -> List.of(WITH_AGENT, WITHOUT_AGENT).contains(name)),
                "only running VMs change");
    }

    @Test
    void aDedupProbeHasARowForEveryVmAskedAndSaysWhyOneWasNotProbed() {
        DedupProbeReport report = host.probeDedup(
                new DedupProbeRequest(List.of(WITH_AGENT, WITHOUT_AGENT, STOPPED), 16, 1, Duration.ofSeconds(30)));
        assertEquals(
                List.of(WITH_AGENT, WITHOUT_AGENT, STOPPED),
                report.vms().stream().map(DedupProbeReport.VmProbe::name).toList());
        DedupProbeReport.VmProbe probed = report.vm(WITH_AGENT).orElseThrow();
        assertEquals(DedupProbeReport.Outcome.PROBED, probed.outcome(), probed.toString());
        assertNotEquals(DedupProbeReport.Verdict.UNKNOWN, probed.verdict(), probed.toString());
        for (String vm : List.of(WITHOUT_AGENT, STOPPED)) {
            DedupProbeReport.VmProbe row = report.vm(vm).orElseThrow();
            assertEquals(DedupProbeReport.Outcome.NO_AGENT, row.outcome(), row.toString());
            assertEquals(DedupProbeReport.Verdict.UNKNOWN, row.verdict(), row.toString());
            assertFalse(row.detail().isBlank(), "the row says why: " + row);
        }
        assertEquals(16, report.pages());
        assertThrows(NoSuchVmException.class, () -> host.probeDedup(DedupProbeRequest.of(List.of("no-such-vm"), 16)));
    }
}
