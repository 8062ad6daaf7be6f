package org.memhygiene.controller.posture;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.GuestFindings;
import org.memhygiene.core.posture.Severity;
import org.memhygiene.core.posture.SwapDevice;
import org.memhygiene.core.probe.DedupProbeReport;

/**
 * Scores a host snapshot: the host's findings (KSM, its swap, CPU mitigations) and each VM's (its
 * memory backing, sharing while KSM merges across VMs, its agent, and the guest findings its agent
 * reported), each list scored by {@link PostureRubric}. Every rule and its sources are in
 * docs/POSTURE.md. It runs on every sample, so it asks for the host's facts (the backend's
 * {@link HostBackend#facts()}) at most once per {@link #HOST_FILES_REFRESH} of snapshot time; scoring the
 * same snapshot again returns the same result without work (the API, the stream and the metrics all ask
 * for the latest).
 */
public final class PostureScorer {
    /** How long the host facts (swap, CPU vulnerabilities, NUMA nodes) are reused. */
    public static final Duration HOST_FILES_REFRESH = Duration.ofSeconds(60);
    /** The most guest findings taken from one agent: a guest is untrusted and must not flood the host. */
    static final int MAX_GUEST_FINDINGS = 64;

    private static final String KSM = "/sys/kernel/mm/ksm/";
    private static final int MAX_NAMES_IN_EVIDENCE = 5;
    private static final int MAX_PROBLEM_CHARS = 200;

    private record Scored(HostSnapshot snapshot, HostPosture posture) {}

    /** How long a deduplication probe's measurement stands in for the rubric's assumption. */
    public static final Duration PROBE_VALIDITY = Duration.ofHours(24);

    private final Supplier<Optional<HostFacts>> facts;
    private final Supplier<Optional<DedupProbeReport>> probes;
    private Optional<HostFacts> files = Optional.empty();
    private Instant filesReadAt;
    private Scored last;

    /** Takes the host facts from {@code facts} (a backend's, or a test's own). */
    public PostureScorer(Supplier<Optional<HostFacts>> facts) {
        this(facts, Optional::empty);
    }

    /**
     * @param probes the latest deduplication probe (docs/POSTURE.md, "The deduplication canary"): for
     *               {@link #PROBE_VALIDITY} it replaces the assumption that a VM's memory may be merged with
     *               other VMs' by what was measured
     */
    public PostureScorer(Supplier<Optional<HostFacts>> facts, Supplier<Optional<DedupProbeReport>> probes) {
        this.facts = facts;
        this.probes = probes;
    }

    /** For the host {@code backend} samples, with its facts. */
    public static PostureScorer of(HostBackend backend) {
        return new PostureScorer(backend::facts);
    }

    /** For the host {@code backend} samples, with its facts and the daemon's deduplication probes. */
    public static PostureScorer of(HostBackend backend, Supplier<Optional<DedupProbeReport>> probes) {
        return new PostureScorer(backend::facts, probes);
    }

    /** A scorer for a host whose facts are not known: the host swap and CPU rules are skipped. */
    public static PostureScorer withoutHostFacts() {
        return new PostureScorer(Optional::empty);
    }

    public synchronized HostPosture score(HostSnapshot snapshot) {
        if (last != null && last.snapshot() == snapshot) {
            return last.posture();
        }
        Optional<HostFacts> hostFiles = hostFacts(snapshot.sampledAt());
        Optional<KsmStats> ksm = snapshot.ksm().map(k -> k.stats());
        List<VmSnapshot> sharing = snapshot.vms().stream()
                .filter(vm -> vm.domain().state().hasQemuProcess()
                        && vm.sharingAllowed().orElse(true))
                .toList();
        boolean merging = ksm.map(KsmStats::merging).orElse(false);
        long pagesSharing = ksm.map(k -> k.pagesSharing().orElse(0)).orElse(0L);
        boolean crossVm = merging && pagesSharing > 0 && sharing.size() >= 2;

        List<Finding> host = new ArrayList<>();
        ksmFindings(ksm, sharing, crossVm, pagesSharing, hostFiles, host);
        hostFiles.ifPresentOrElse(
                f -> {
                    swapFindings(f, host);
                    cpuFindings(f, host);
                },
                () -> host.add(new Finding(
                        "host.files.not_visible",
                        Severity.INFO,
                        "The host's swap and CPU mitigations were not checked",
                        snapshot.uri()
                                + ": the host does not show its swap and CPU files (libvirt's host is another machine)",
                        "Run memhygiene on that host to check them.")));
        host.sort(PostureRubric.WORST_FIRST);

        Optional<List<SwapDevice>> unencryptedSwap = hostFiles
                .flatMap(HostFacts::swaps)
                .map(s -> s.stream()
                        .filter(d -> d.kind() == SwapDevice.Kind.UNENCRYPTED)
                        .toList())
                .filter(s -> !s.isEmpty());
        Optional<DedupProbeReport> probe = probes.get()
                .filter(p -> !p.measuredAt().isAfter(snapshot.sampledAt())
                        && p.measuredAt().plus(PROBE_VALIDITY).isAfter(snapshot.sampledAt()));
        List<VmPosture> vms = new ArrayList<>(snapshot.vms().size());
        for (VmSnapshot vm : snapshot.vms()) {
            List<Finding> findings = vmFindings(vm, merging, crossVm, pagesSharing, unencryptedSwap);
            Optional<DedupProbeReport.VmProbe> measured = probe.flatMap(
                            p -> p.vm(vm.domain().uuid()))
                    .filter(row -> row.verdict() != DedupProbeReport.Verdict.UNKNOWN);
            measured.ifPresent(row -> measuredFinding(probe.get(), row, findings));
            findings.sort(PostureRubric.WORST_FIRST);
            vms.add(new VmPosture(
                    vm.domain().name(),
                    vm.domain().uuid(),
                    PostureRubric.score(findings),
                    findings,
                    measured.map(row -> probe.get().measuredAt())));
        }
        HostPosture posture = new HostPosture(PostureRubric.score(host), host, vms);
        last = new Scored(snapshot, posture);
        return posture;
    }

    private Optional<HostFacts> hostFacts(Instant at) {
        if (filesReadAt == null || at.isBefore(filesReadAt) || !at.isBefore(filesReadAt.plus(HOST_FILES_REFRESH))) {
            files = facts.get();
            filesReadAt = at;
        }
        return files;
    }

    /** KSM: docs.kernel.org/admin-guide/mm/ksm.html; the attacks merging enables: docs/POSTURE.md. */
    private static void ksmFindings(
            Optional<KsmStats> stats,
            List<VmSnapshot> sharing,
            boolean crossVm,
            long pagesSharing,
            Optional<HostFacts> files,
            List<Finding> out) {
        if (stats.isEmpty()) {
            out.add(new Finding(
                    "host.ksm.unknown",
                    Severity.INFO,
                    "KSM is not visible",
                    KSM + ": not read (no KSM in this kernel, or libvirt's host is another machine)",
                    "None."));
            return;
        }
        KsmStats k = stats.get();
        String run = KSM + "run: " + text(k.run());
        if (!k.merging()) {
            out.add(new Finding(
                    "host.ksm.off",
                    Severity.INFO,
                    "KSM does not merge pages",
                    run,
                    "None for confidentiality; freed guest memory is not reclaimed through KSM."));
            return;
        }
        String counters = run + "; pages_sharing: " + pagesSharing + "; ksm_zero_pages: " + text(k.ksmZeroPages())
                + "; use_zero_pages: " + text(k.useZeroPages());
        out.add(new Finding(
                "host.ksm.on",
                Severity.INFO,
                "KSM merges pages",
                counters + "; merge_across_nodes: " + text(k.mergeAcrossNodes()),
                "None."));
        String sharers = "VMs that allow sharing: " + names(sharing);
        if (crossVm) {
            out.add(new Finding(
                    "host.ksm.cross_vm_merging",
                    Severity.HIGH,
                    "KSM merges identical pages across " + sharing.size() + " VMs",
                    counters + "; " + sharers,
                    "Give VMs that hold secrets <memoryBacking><nosharepages/></memoryBacking> (vm-configs/sensitive.xml),"
                            + " or stop KSM (run=0) where the memory saved is not worth the side channel."));
        } else if (pagesSharing > 0) {
            out.add(new Finding(
                    "host.ksm.non_zero_merging",
                    Severity.LOW,
                    "KSM merges identical pages within one VM or of host processes",
                    counters + "; " + sharers,
                    "Merged pages within a guest still leak through copy-on-write timing; keep secrets out of"
                            + " mergeable memory (<nosharepages/>)."));
        } else if (sharing.size() >= 2) {
            out.add(new Finding(
                    "host.ksm.cross_vm_possible",
                    Severity.LOW,
                    "KSM may merge pages across " + sharing.size() + " VMs (nothing merged yet)",
                    counters + "; " + sharers,
                    "Give VMs that hold secrets <nosharepages/> before KSM finds identical pages."));
        }
        if (k.useZeroPages().isPresent() && k.useZeroPages().getAsLong() == 0) {
            out.add(new Finding(
                    "host.ksm.use_zero_pages.off",
                    Severity.LOW,
                    "Zero pages merge into KSM pages shared across VMs, not with the kernel's zero page",
                    KSM + "use_zero_pages: 0",
                    "memhygiene ksm set use_zero_pages=1: zeroed guest memory then maps the zero page, is counted in"
                            + " ksm_zero_pages apart from real sharing, and shares no frame between VMs."));
        }
        if (k.mergeAcrossNodes().isPresent() && k.mergeAcrossNodes().getAsLong() == 1) {
            files.flatMap(f -> f.numaNodes().isPresent() && f.numaNodes().getAsInt() > 1
                            ? Optional.of(f)
                            : Optional.empty())
                    .ifPresent(f -> out.add(new Finding(
                            "host.ksm.merge_across_nodes",
                            Severity.LOW,
                            "KSM merges pages across " + f.numaNodes().getAsInt() + " NUMA nodes",
                            KSM + "merge_across_nodes: 1; " + f.nodesFile() + ": "
                                    + f.numaNodes().getAsInt() + " nodes",
                            "Set merge_across_nodes=0 (with run=2 first: it only changes while nothing is merged): fewer"
                                    + " VMs share each frame, and no guest reads another node's memory.")));
        }
    }

    /** The host's swap: a QEMU process's guest RAM goes there under pressure unless it is locked. */
    private static void swapFindings(HostFacts files, List<Finding> out) {
        files.swaps().ifPresent(devices -> {
            String swaps = files.swapsFile();
            for (SwapDevice d : devices) {
                if (d.kind() == SwapDevice.Kind.UNENCRYPTED) {
                    out.add(new Finding(
                            "host.swap.unencrypted",
                            Severity.HIGH,
                            "Host swap on " + d.device()
                                    + " is not encrypted: guest memory can reach the disk in clear",
                            swaps + ": " + d.line(),
                            "Encrypt the host's swap (dm-crypt with a random key per boot), use zram, or turn it off;"
                                    + " <locked/> keeps a VM's memory out of swap."));
                } else {
                    out.add(new Finding(
                            "host.swap.protected",
                            Severity.INFO,
                            "Host swap on " + d.device() + " is " + d.kind().label(),
                            swaps + ": " + d.line(),
                            "None."));
                }
            }
            if (devices.isEmpty()) {
                out.add(new Finding(
                        "host.swap.none", Severity.INFO, "The host has no swap", swaps + ": no devices", "None."));
            }
        });
    }

    /** docs.kernel.org/admin-guide/hw-vuln: each file says Not affected, Mitigation: ..., or Vulnerable... */
    private static void cpuFindings(HostFacts files, List<Finding> out) {
        if (files.cpuVulnerabilities().isEmpty()) {
            return;
        }
        String dir = files.vulnerabilitiesDir();
        int vulnerable = 0;
        for (var e : files.cpuVulnerabilities().entrySet()) {
            String evidence = dir + "/" + e.getKey() + ": " + e.getValue();
            if (e.getValue().startsWith("Vulnerable")) {
                vulnerable++;
                out.add(new Finding(
                        "host.cpu.vulnerable." + e.getKey(),
                        Severity.HIGH,
                        "The CPU is not protected against " + e.getKey(),
                        evidence,
                        "Update the CPU microcode and the host kernel, and do not turn mitigations off"
                                + " (mitigations=, https://docs.kernel.org/admin-guide/hw-vuln/index.html)."));
            } else if (e.getValue().contains("SMT vulnerable")) {
                out.add(new Finding(
                        "host.cpu.smt_vulnerable." + e.getKey(),
                        Severity.LOW,
                        "Guests on sibling hyperthreads can still attack each other through " + e.getKey(),
                        evidence,
                        "For untrusted guests, disable SMT (nosmt) or pin VMs to whole cores."));
            }
        }
        if (vulnerable == 0) {
            out.add(new Finding(
                    "host.cpu.mitigated",
                    Severity.INFO,
                    "No CPU vulnerability is unmitigated",
                    dir + ": " + files.cpuVulnerabilities().size() + " files, none 'Vulnerable'",
                    "None."));
        }
    }

    /**
     * A probe's measurement in place of the rubric's assumption: whether this VM's canary pages were merged
     * with another VM's (the host's truth; the guest's timing where the host could not see), with the evidence.
     */
    private static void measuredFinding(DedupProbeReport probe, DedupProbeReport.VmProbe row, List<Finding> findings) {
        findings.removeIf(f -> f.id().equals("vm.sharing.cross_vm") || f.id().equals("vm.sharing.allowed"));
        String host = row.host()
                .map(h -> h.canaryPagesMergedAcrossVms() + " of " + probe.pages() + " canary pages share a KSM frame"
                        + " with another VM's (" + probe.hostTruthMethod() + ")")
                .orElse("the host's truth could not be read (" + probe.hostTruthMethod() + ")");
        String guest = row.guest()
                .map(g -> String.format(
                        Locale.ROOT,
                        "guest writes: canary median %d ns, control median %d ns, rank test z = %.2f, p = %.3g%s",
                        g.canaryMedianNanos(),
                        g.controlMedianNanos(),
                        g.z(),
                        g.pValue(),
                        g.observed() ? " (the guest can see it)" : " (not significant)"))
                .orElse("no guest timings");
        List<String> partners = probe.pairs().stream()
                .filter(p -> p.mergedPages() > 0
                        && (p.vmA().equals(row.name()) || p.vmB().equals(row.name())))
                .map(p -> (p.vmA().equals(row.name()) ? p.vmB() : p.vmA()) + " (" + p.mergedPages() + ")")
                .toList();
        // To the second: an admin reads when the probe ran, the nanoseconds only lengthen the line.
        String evidence = "deduplication probe of " + probe.measuredAt().truncatedTo(ChronoUnit.SECONDS) + ", KSM "
                + probe.ksm().waited() + ": "
                + host + (partners.isEmpty() ? "" : ", with " + String.join(", ", partners)) + "; " + guest
                + (row.detail().isEmpty() ? "" : "; " + row.detail());
        if (row.verdict() == DedupProbeReport.Verdict.OBSERVED) {
            findings.add(
                    new Finding(
                            "host.ksm.cross_vm_observed",
                            Severity.HIGH,
                            "Its memory was measured merged with another VM's",
                            evidence,
                            "If the guest holds secrets, add <nosharepages/> (vm-configs/sensitive.xml), or stop merging"
                                    + " across VMs (KSM run=0, or use_zero_pages=1 with scrubbing only); probe again to confirm."));
        } else {
            findings.add(new Finding(
                    "host.ksm.cross_vm_not_observed",
                    Severity.INFO,
                    "No merging with other VMs was measured",
                    evidence,
                    "None; probe again after a change of KSM or of the VMs."));
        }
    }

    private static List<Finding> vmFindings(
            VmSnapshot vm,
            boolean merging,
            boolean crossVm,
            long pagesSharing,
            Optional<List<SwapDevice>> unencryptedSwap) {
        List<Finding> out = new ArrayList<>();
        boolean running = vm.domain().state().hasQemuProcess();
        Optional<DomainXml> config = vm.config();
        if (config.isEmpty()) {
            out.add(new Finding(
                    "vm.config.unknown",
                    Severity.LOW,
                    "The domain XML could not be read",
                    vm.domain().name() + ": no domain XML in this sample",
                    "Check that libvirt answers virDomainGetXMLDesc for this domain."));
        } else {
            DomainXml.MemoryBacking backing = config.get().memoryBacking();
            List<String> flags = new ArrayList<>();
            if (backing.noSharePages()) {
                flags.add("<nosharepages/>");
            }
            if (backing.hugepages()) {
                flags.add("<hugepages/>");
            }
            if (backing.locked()) {
                flags.add("<locked/>");
            }
            String xml = "domain XML <memoryBacking>: "
                    + (flags.isEmpty() ? "no <nosharepages/>, <hugepages/> or <locked/>" : String.join(" ", flags));
            boolean sensitive = config.get().posture().equals(Optional.of(PostureLevel.SENSITIVE));
            String ksmState =
                    merging ? "KSM merging, " + KSM + "pages_sharing: " + pagesSharing : "KSM not merging now";
            if (!backing.noSharePages() && !backing.hugepages()) {
                OptionalLong merged = vm.ksm().map(k -> k.stat().mergingPages()).orElse(OptionalLong.empty());
                String own = merged.isPresent() ? "; ksm_merging_pages of its QEMU process: " + merged.getAsLong() : "";
                if (sensitive) {
                    out.add(
                            new Finding(
                                    "vm.sensitive.sharing_allowed",
                                    Severity.HIGH,
                                    "A VM marked sensitive lets KSM merge its memory",
                                    "memhygiene posture level='sensitive'; " + xml + "; " + ksmState + own,
                                    "Add <memoryBacking><nosharepages/></memoryBacking> (vm-configs/sensitive.xml) and restart the VM."));
                } else if (crossVm && running) {
                    out.add(
                            new Finding(
                                    "vm.sharing.cross_vm",
                                    Severity.MEDIUM,
                                    "Its memory may be merged with other VMs' identical pages",
                                    xml + "; " + ksmState + own,
                                    "If the guest holds secrets, add <nosharepages/>; else keep it and let its agent zero free memory."));
                } else {
                    out.add(new Finding(
                            "vm.sharing.allowed",
                            Severity.INFO,
                            "KSM may merge its memory",
                            xml + "; " + ksmState + own,
                            "None while KSM does not merge pages across VMs."));
                }
            } else {
                out.add(new Finding("vm.sharing.off", Severity.INFO, "KSM never merges its memory", xml, "None."));
            }
            if (backing.locked() || backing.hugepages()) {
                out.add(new Finding(
                        "vm.memory.locked", Severity.INFO, "Its memory is never swapped by the host", xml, "None."));
            } else if (running && unencryptedSwap.isPresent()) {
                out.add(new Finding(
                        "vm.memory.swappable",
                        Severity.MEDIUM,
                        "Its memory can be swapped to the host's unencrypted swap",
                        xml + "; host swap: "
                                + String.join(
                                        ", ",
                                        unencryptedSwap.get().stream()
                                                .map(SwapDevice::device)
                                                .toList()),
                        "Encrypt the host's swap, or add <locked/> (with a memtune hard_limit) to keep it in RAM."));
            }
        }
        if (running) {
            agentFindings(vm.agent(), out);
        }
        int taken = 0;
        for (Finding f : vm.agent().posture()) {
            // Only the guest's own findings: a guest must not report host or vm findings about itself.
            if (f.id() != null
                    && f.severity() != null
                    && f.id().startsWith(GuestFindings.ID_PREFIX)
                    && taken++ < MAX_GUEST_FINDINGS) {
                out.add(f);
            }
        }
        return out;
    }

    private static void agentFindings(AgentSample agent, List<Finding> out) {
        String status = agent.status().label();
        String problem = agent.problem().length() > MAX_PROBLEM_CHARS
                ? agent.problem().substring(0, MAX_PROBLEM_CHARS) + "..."
                : agent.problem();
        switch (agent.status()) {
            case OK, VM_NOT_RUNNING -> {}
            case NO_CHANNEL ->
                out.add(new Finding(
                        "vm.agent.absent",
                        Severity.LOW,
                        "No memhygiene agent: the guest's own posture is unknown",
                        "agent link: " + status + " (no " + DomainXml.AGENT_CHANNEL + " channel in the domain XML)",
                        "Add the channel (vm-configs/README.md) and install memhygiene-agent in the guest."));
            case MISBEHAVING ->
                out.add(
                        new Finding(
                                "vm.agent.misbehaving",
                                Severity.MEDIUM,
                                "The guest's agent sends what the protocol does not allow",
                                "agent link: " + status + ": " + problem,
                                "Check the guest: a broken or compromised agent; its findings below are the last valid ones, if any."));
            default ->
                out.add(
                        new Finding(
                                "vm.agent.unreachable",
                                Severity.LOW,
                                "The guest's agent did not answer",
                                "agent link: " + status + ": " + problem,
                                "Check that memhygiene-agent runs in the guest; its findings below are the last received, if any."));
        }
    }

    private static String names(List<VmSnapshot> vms) {
        List<String> names = vms.stream()
                .limit(MAX_NAMES_IN_EVIDENCE)
                .map(v -> v.domain().name())
                .toList();
        return vms.isEmpty()
                ? "none"
                : String.join(", ", names)
                        + (vms.size() > MAX_NAMES_IN_EVIDENCE
                                ? " and " + (vms.size() - MAX_NAMES_IN_EVIDENCE) + " more"
                                : "");
    }

    private static String text(OptionalLong value) {
        return value.isPresent() ? Long.toString(value.getAsLong()) : "absent";
    }
}
