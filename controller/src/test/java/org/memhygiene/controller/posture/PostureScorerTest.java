package org.memhygiene.controller.posture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;
import org.memhygiene.core.probe.DedupProbeReport;

/** Every rule of docs/POSTURE.md on hand-built snapshots and prepared /proc and /sys trees; the rubric. */
class PostureScorerTest {
    @TempDir
    Path root;

    PostureHost.HostTree files;
    PostureHost host;

    @BeforeEach
    void quietHost() throws Exception {
        files = new PostureHost.HostTree(root);
        host = new PostureHost();
    }

    private HostPosture score() {
        return files.scorer().score(host.build());
    }

    private static Set<String> ids(List<Finding> findings) {
        return findings.stream().map(Finding::id).collect(Collectors.toSet());
    }

    private static Finding find(List<Finding> findings, String id) {
        return findings.stream()
                .filter(f -> f.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + id + " in " + ids(findings)));
    }

    private VmPosture vm(HostPosture posture, String name) {
        return posture.vms().stream()
                .filter(v -> v.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void aQuietHostScores100AndSaysWhatItChecked() {
        HostPosture posture = score();
        assertEquals(Set.of("host.ksm.on", "host.swap.none", "host.cpu.mitigated"), ids(posture.hostFindings()));
        assertEquals(100, posture.hostScore());
        assertTrue(find(posture.hostFindings(), "host.swap.none")
                .evidence()
                .startsWith(files.proc.resolve("swaps") + ":"));
        assertTrue(find(posture.hostFindings(), "host.cpu.mitigated")
                .evidence()
                .startsWith(files.sys.resolve("devices/system/cpu/vulnerabilities") + ": 1 files"));
    }

    @Test
    void ksmUnknownAndKsmOff() {
        host.ksm = null;
        assertTrue(ids(score().hostFindings()).contains("host.ksm.unknown"));
        host = new PostureHost().set("run", 0).set("pages_sharing", 500);
        host.vm("a").add().vm("b").add();
        HostPosture off = score();
        assertTrue(ids(off.hostFindings()).contains("host.ksm.off"));
        assertFalse(ids(off.hostFindings()).contains("host.ksm.cross_vm_merging"), "a stopped KSM merges nothing new");
        assertEquals(
                "/sys/kernel/mm/ksm/run: 0",
                find(off.hostFindings(), "host.ksm.off").evidence());
    }

    @Test
    void mergingNonZeroPagesAcrossVmsIsHighForTheHostAndMediumForEachSharingVm() {
        host.set("pages_sharing", 500);
        host.vm("a").add();
        PostureHost.Vm b = host.vm("b");
        b.mergingPages = OptionalLong.of(120);
        b.add();
        PostureHost.Vm c = host.vm("c");
        c.noSharePages = true;
        c.add();
        PostureHost.Vm off = host.vm("off");
        off.state = DomainState.SHUT_OFF;
        off.add();
        HostPosture posture = score();
        Finding cross = find(posture.hostFindings(), "host.ksm.cross_vm_merging");
        assertEquals(Severity.HIGH, cross.severity());
        assertTrue(cross.evidence().startsWith("/sys/kernel/mm/ksm/run: 1; pages_sharing: 500"), cross.evidence());
        assertTrue(cross.evidence().contains("VMs that allow sharing: a, b"), cross.evidence());
        assertEquals(80, posture.hostScore());
        assertEquals(
                Severity.MEDIUM,
                find(vm(posture, "a").findings(), "vm.sharing.cross_vm").severity());
        assertTrue(find(vm(posture, "b").findings(), "vm.sharing.cross_vm")
                .evidence()
                .contains("ksm_merging_pages of its QEMU process: 120"));
        assertEquals(92, vm(posture, "a").score());
        assertEquals(Set.of("vm.sharing.off"), ids(vm(posture, "c").findings()));
        assertTrue(
                find(vm(posture, "c").findings(), "vm.sharing.off").evidence().contains("<nosharepages/>"));
        assertEquals(
                Set.of("vm.sharing.allowed"),
                ids(vm(posture, "off").findings()),
                "a VM that is not running shares nothing");
    }

    @Test
    void mergingWithinOneVmIsLowAndSharingVmsWithNothingMergedYetIsLow() {
        host.set("pages_sharing", 500);
        host.vm("a").add();
        PostureHost.Vm noshare = host.vm("b");
        noshare.hugepages = true;
        noshare.add();
        HostPosture one = score();
        assertTrue(ids(one.hostFindings()).contains("host.ksm.non_zero_merging"));
        assertFalse(
                ids(one.hostFindings()).contains("host.ksm.cross_vm_merging"), "huge pages are never merged by KSM");
        assertEquals(Set.of("vm.sharing.allowed"), ids(vm(one, "a").findings()));

        host = new PostureHost();
        host.vm("a").add().vm("b").add();
        HostPosture possible = score();
        assertEquals(
                Severity.LOW,
                find(possible.hostFindings(), "host.ksm.cross_vm_possible").severity());
        assertFalse(ids(possible.hostFindings()).contains("host.ksm.cross_vm_merging"));
    }

    @Test
    void useZeroPagesOffAndMergeAcrossNodesOnANumaHost() throws Exception {
        host.set("use_zero_pages", 0);
        assertEquals(
                Severity.LOW,
                find(score().hostFindings(), "host.ksm.use_zero_pages.off").severity());
        host.set("use_zero_pages", 1);
        assertFalse(ids(score().hostFindings()).contains("host.ksm.use_zero_pages.off"));

        assertFalse(
                ids(score().hostFindings()).contains("host.ksm.merge_across_nodes"), "one NUMA node: nothing to say");
        files.put(files.sys, "devices/system/node/online", "0-1");
        Finding numa = find(score().hostFindings(), "host.ksm.merge_across_nodes");
        assertTrue(
                numa.evidence().contains("merge_across_nodes: 1")
                        && numa.evidence().contains("2 nodes"),
                numa.evidence());
        host.set("merge_across_nodes", 0);
        assertFalse(ids(score().hostFindings()).contains("host.ksm.merge_across_nodes"));
    }

    @Test
    void hostSwapUnencryptedIsHighAndMakesUnlockedVmsMedium() throws Exception {
        files.swaps("/dev/sda2                               partition\t999420\t\t0\t\t-2\n");
        host.vm("a").add();
        PostureHost.Vm locked = host.vm("locked");
        locked.locked = true;
        locked.add();
        HostPosture posture = score();
        Finding swap = find(posture.hostFindings(), "host.swap.unencrypted");
        assertEquals(Severity.HIGH, swap.severity());
        assertTrue(swap.evidence().startsWith(files.proc.resolve("swaps") + ": /dev/sda2"), swap.evidence());
        Finding swappable = find(vm(posture, "a").findings(), "vm.memory.swappable");
        assertEquals(Severity.MEDIUM, swappable.severity());
        assertTrue(swappable.evidence().contains("/dev/sda2"));
        assertTrue(ids(vm(posture, "locked").findings()).contains("vm.memory.locked"));
        assertFalse(ids(vm(posture, "locked").findings()).contains("vm.memory.swappable"));
    }

    @Test
    void encryptedAndInMemorySwapAreProtected() throws Exception {
        files.swaps("/dev/dm-1 partition 1 0 -2\n/dev/zram0 partition 1 0 100\n/dev/dm-2 partition 1 0 -3\n");
        files.put(files.sys, "block/dm-1/dm/uuid", "CRYPT-PLAIN-cryptswap");
        files.put(files.sys, "block/dm-2/dm/uuid", "LVM-abcdef");
        host.vm("a").add();
        HostPosture posture = score();
        assertEquals(
                2,
                posture.hostFindings().stream()
                        .filter(f -> f.id().equals("host.swap.protected"))
                        .count());
        assertTrue(
                find(posture.hostFindings(), "host.swap.unencrypted").evidence().contains("/dev/dm-2"),
                "an LVM volume is not encryption");
    }

    @Test
    void eachVulnerableCpuEntryIsHighAndSmtVulnerableIsLow() throws Exception {
        files.put(
                files.sys,
                "devices/system/cpu/vulnerabilities/mds",
                "Vulnerable: Clear CPU buffers attempted, no microcode; SMT vulnerable");
        files.put(
                files.sys,
                "devices/system/cpu/vulnerabilities/l1tf",
                "Mitigation: PTE Inversion; VMX: conditional cache flushes, SMT vulnerable");
        files.put(files.sys, "devices/system/cpu/vulnerabilities/spectre_v2", "Mitigation: Retpolines");
        HostPosture posture = score();
        Finding mds = find(posture.hostFindings(), "host.cpu.vulnerable.mds");
        assertEquals(Severity.HIGH, mds.severity());
        assertEquals(
                files.sys.resolve("devices/system/cpu/vulnerabilities/mds")
                        + ": Vulnerable: Clear CPU buffers attempted, no microcode; SMT vulnerable",
                mds.evidence());
        assertEquals(
                Severity.LOW,
                find(posture.hostFindings(), "host.cpu.smt_vulnerable.l1tf").severity());
        assertFalse(ids(posture.hostFindings()).contains("host.cpu.mitigated"));
        assertFalse(ids(posture.hostFindings()).stream().anyMatch(id -> id.contains("spectre_v2")));
        assertEquals(100 - 20 - 2, posture.hostScore());
    }

    @Test
    void aHostThatIsNotThisMachineSkipsItsFiles() throws Exception {
        files.swaps("/dev/sda2 partition 1 0 -2\n");
        HostPosture posture = PostureScorer.withoutHostFacts().score(host.build());
        assertEquals(Set.of("host.ksm.on", "host.files.not_visible"), ids(posture.hostFindings()));
    }

    @Test
    void hostFilesAreReadAgainOnlyAfterAMinuteOfSnapshotTime() throws Exception {
        PostureScorer scorer = files.scorer();
        assertTrue(ids(scorer.score(host.build()).hostFindings()).contains("host.swap.none"));
        files.swaps("/dev/sda2 partition 1 0 -2\n");
        host.seconds = 30;
        assertTrue(
                ids(scorer.score(host.build()).hostFindings()).contains("host.swap.none"),
                "within a minute: the files read before");
        host.seconds = 60;
        assertTrue(
                ids(scorer.score(host.build()).hostFindings()).contains("host.swap.unencrypted"),
                "a minute later: read again");
    }

    @Test
    void theSameSnapshotIsScoredOnce() {
        PostureScorer scorer = files.scorer();
        var snapshot = host.build();
        assertSame(scorer.score(snapshot), scorer.score(snapshot));
    }

    @Test
    void aSensitiveVmThatAllowsSharingIsHighEvenWhileKsmIsOff() {
        host.set("run", 0);
        PostureHost.Vm sensitive = host.vm("vault");
        sensitive.level = Optional.of(PostureLevel.SENSITIVE);
        sensitive.add();
        PostureHost.Vm guarded = host.vm("guarded");
        guarded.level = Optional.of(PostureLevel.SENSITIVE);
        guarded.noSharePages = true;
        guarded.add();
        HostPosture posture = score();
        Finding f = find(vm(posture, "vault").findings(), "vm.sensitive.sharing_allowed");
        assertEquals(Severity.HIGH, f.severity());
        assertTrue(
                f.evidence().contains("level='sensitive'") && f.evidence().contains("KSM not merging now"),
                f.evidence());
        assertEquals(80, vm(posture, "vault").score());
        assertEquals(100, vm(posture, "guarded").score());
    }

    @Test
    void anUnreadableDomainXmlIsLow() {
        PostureHost.Vm vm = host.vm("a");
        vm.configKnown = false;
        vm.add();
        assertEquals(
                Severity.LOW,
                find(vm(score(), "a").findings(), "vm.config.unknown").severity());
    }

    @Test
    void theAgentLinkStateBecomesAFinding() {
        PostureHost.Vm none = host.vm("none");
        none.agent = AgentStatus.NO_CHANNEL;
        none.add();
        PostureHost.Vm bad = host.vm("bad");
        bad.agent = AgentStatus.MISBEHAVING;
        bad.problem = "line longer than 65536 bytes";
        bad.add();
        PostureHost.Vm silent = host.vm("silent");
        silent.agent = AgentStatus.TIMEOUT;
        silent.problem = "no reply within 2000 ms";
        silent.add();
        PostureHost.Vm stopped = host.vm("stopped");
        stopped.agent = AgentStatus.VM_NOT_RUNNING;
        stopped.state = DomainState.SHUT_OFF;
        stopped.add();
        host.vm("ok").add();
        HostPosture posture = score();
        assertEquals(
                Severity.LOW,
                find(vm(posture, "none").findings(), "vm.agent.absent").severity());
        Finding misbehaving = find(vm(posture, "bad").findings(), "vm.agent.misbehaving");
        assertEquals(Severity.MEDIUM, misbehaving.severity());
        assertEquals("agent link: misbehaving: line longer than 65536 bytes", misbehaving.evidence());
        assertTrue(find(vm(posture, "silent").findings(), "vm.agent.unreachable")
                .evidence()
                .contains("no reply within 2000 ms"));
        assertFalse(ids(vm(posture, "stopped").findings()).stream().anyMatch(id -> id.startsWith("vm.agent.")));
        assertFalse(ids(vm(posture, "ok").findings()).stream().anyMatch(id -> id.startsWith("vm.agent.")));
    }

    @Test
    void guestFindingsCountForTheirVmButAGuestCannotSpeakForTheHost() {
        PostureHost.Vm guest = host.vm("g");
        List<Finding> reported = new ArrayList<>(List.of(
                new Finding("guest.init_on_free.off", Severity.MEDIUM, "t", "/proc/cmdline: no init_on_free=", "r"),
                new Finding("guest.swap.unencrypted", Severity.HIGH, "t", "/proc/swaps: /dev/vda2 partition", "r"),
                new Finding("vm.sharing.off", Severity.INFO, "forged", "guest says so", "r")));
        guest.guest = reported;
        guest.add();
        VmPosture posture = vm(score(), "g");
        assertEquals(
                Set.of("vm.sharing.allowed", "guest.init_on_free.off", "guest.swap.unencrypted"),
                ids(posture.findings()));
        assertEquals(100 - 20 - 8, posture.score());
        assertEquals("guest.swap.unencrypted", posture.findings().get(0).id(), "worst first");

        PostureHost.Vm flood = host.vm("flood");
        flood.guest = IntStream.range(0, 1000)
                .mapToObj(i -> new Finding("guest.x" + i, Severity.INFO, "t", "e", "r"))
                .toList();
        flood.add();
        assertEquals(
                1 + PostureScorer.MAX_GUEST_FINDINGS,
                vm(score(), "flood").findings().size());
    }

    @Test
    void theRubricDeductsPerDistinctIdWithCapsPerSeverity() {
        assertEquals(100, PostureRubric.score(List.of()));
        assertEquals(100, PostureRubric.score(findings(Severity.INFO, 50)));
        assertEquals(80, PostureRubric.score(findings(Severity.HIGH, 1)));
        Finding high = findings(Severity.HIGH, 1).get(0);
        assertEquals(80, PostureRubric.score(List.of(high, high)), "the same id twice deducts once");
        assertEquals(40, PostureRubric.score(findings(Severity.HIGH, 4)), "HIGH is capped at 60");
        assertEquals(68, PostureRubric.score(findings(Severity.MEDIUM, 5)), "MEDIUM is capped at 32");
        assertEquals(90, PostureRubric.score(findings(Severity.LOW, 20)), "LOW is capped at 10");
        assertEquals(60, PostureRubric.score(findings(Severity.CRITICAL, 1)));
        assertEquals(0, PostureRubric.score(findings(Severity.CRITICAL, 3)));
        List<Finding> mixed = new ArrayList<>(findings(Severity.HIGH, 1));
        mixed.addAll(findings(Severity.MEDIUM, 2));
        mixed.addAll(findings(Severity.LOW, 3));
        assertEquals(100 - 20 - 16 - 6, PostureRubric.score(mixed));
        Collections.reverse(mixed);
        assertEquals(100 - 20 - 16 - 6, PostureRubric.score(mixed), "order does not matter");
        Finding worse = new Finding(high.id(), Severity.CRITICAL, "t", "e", "r");
        assertEquals(60, PostureRubric.score(List.of(high, worse)), "an id counts at its worst severity");
    }

    private static List<Finding> findings(Severity severity, int n) {
        return IntStream.range(0, n)
                .mapToObj(i -> new Finding("test." + severity + "." + i, severity, "t", "e", "r"))
                .toList();
    }

    private static DedupProbeReport probe(Instant measuredAt, DedupProbeReport.VmProbe... rows) {
        return new DedupProbeReport(
                "00".repeat(32),
                256,
                4096,
                measuredAt,
                measuredAt,
                new DedupProbeReport.KsmAtProbe(1, false, true, true, 3, 3, "3 full scans"),
                "pagemap+kpageflags",
                List.of(rows),
                List.of(new DedupProbeReport.PairProbe("a", "b", 256)));
    }

    private static DedupProbeReport.VmProbe row(String name, int merged, boolean guestObserved) {
        return new DedupProbeReport.VmProbe(
                name,
                "uuid-" + name,
                DedupProbeReport.Outcome.PROBED,
                "",
                Optional.of(new DedupProbeReport.HostTruth(256, merged, merged)),
                Optional.of(new DedupProbeReport.GuestView(
                        guestObserved ? 4000 : 150, 150, 5000, 200, 50000, 12.5, 1e-30, guestObserved)),
                merged > 0 ? DedupProbeReport.Verdict.OBSERVED : DedupProbeReport.Verdict.NOT_OBSERVED);
    }

    @Test
    void aRecentProbeReplacesTheAssumptionWithWhatItMeasured() {
        host.set("pages_sharing", 500);
        host.vm("a").add().vm("b").add().vm("c").add();
        Instant at = PostureHost.T0.plusSeconds(host.seconds);
        Instant probedAt = at.minusSeconds(60).plusNanos(974_565_641);
        DedupProbeReport report = probe(probedAt, row("a", 256, true), row("b", 256, false), row("c", 0, false));
        HostPosture posture = new PostureScorer(
                        () -> Optional.of(HostFacts.read(files.proc, files.sys)), () -> Optional.of(report))
                .score(host.build());
        VmPosture a = vm(posture, "a");
        Finding observed = find(a.findings(), "host.ksm.cross_vm_observed");
        assertEquals(Severity.HIGH, observed.severity());
        assertTrue(
                observed.evidence().startsWith("deduplication probe of " + at.minusSeconds(60) + ", KSM 3 full scans:"),
                "the probe's time, to the second: " + observed.evidence());
        assertTrue(observed.evidence().contains("256 of 256 canary pages share a KSM frame"), observed.evidence());
        assertTrue(observed.evidence().contains("with b (256)"), observed.evidence());
        assertTrue(observed.evidence().contains("the guest can see it"), observed.evidence());
        assertFalse(ids(a.findings()).contains("vm.sharing.cross_vm"), "the measurement replaces the assumption");
        assertEquals(Optional.of(probedAt), a.measuredAt());
        // The host's truth decides: b's writes did not show it, its memory was merged all the same.
        assertEquals(
                Severity.HIGH,
                find(vm(posture, "b").findings(), "host.ksm.cross_vm_observed").severity());
        VmPosture c = vm(posture, "c");
        assertEquals(
                Severity.INFO,
                find(c.findings(), "host.ksm.cross_vm_not_observed").severity());
        assertFalse(ids(c.findings()).contains("vm.sharing.cross_vm"));
        assertTrue(c.score() > a.score(), "measured unmerged scores better than measured merged");

        DedupProbeReport stale = probe(at.minus(PostureScorer.PROBE_VALIDITY).minusSeconds(1), row("a", 256, true));
        HostPosture old = new PostureScorer(
                        () -> Optional.of(HostFacts.read(files.proc, files.sys)), () -> Optional.of(stale))
                .score(host.build());
        assertTrue(
                ids(vm(old, "a").findings()).contains("vm.sharing.cross_vm"), "a probe older than a day is not used");
        assertEquals(Optional.empty(), vm(old, "a").measuredAt());
    }
}
