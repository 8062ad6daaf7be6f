package org.memhygiene.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.memhygiene.controller.host.SnapshotJson;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.agent.AgentEvent;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "show",
        mixinStandardHelpOptions = true,
        description = "Everything known about one VM: libvirt's figures, its memory configuration, KSM for its"
                + " QEMU process, and what its agent reports (posture findings, scrub counters, recent events).")
final class VmShowCommand implements Callable<Integer> {
    @Mixin
    VmCommands.OneVm target;

    @Mixin
    JsonOutput output;

    @Override
    public Integer call() throws JsonProcessingException {
        try (HostBackend host = target.libvirt.open()) {
            // Every VM is sampled: the VM's posture depends on whether KSM merges across the others.
            HostSnapshot sample = LibvirtOptions.sample(host);
            VmSnapshot vm = sample.vms().stream()
                    .filter(v -> v.domain().name().equals(target.name)
                            || v.domain().uuid().equalsIgnoreCase(target.name))
                    .findFirst()
                    .orElseThrow(() -> VmCommands.noSuchVm(
                            output,
                            new NoSuchVmException(
                                    target.name,
                                    sample.uri(),
                                    sample.vms().stream()
                                            .map(v -> v.domain().name())
                                            .toList())));
            VmPosture posture =
                    PostureScorer.of(host).score(sample).vm(vm.domain().uuid()).orElseThrow();
            if (output.json()) {
                output.print(SnapshotJson.vm(vm, sample.pageSizeBytes(), posture));
            } else {
                output.out().print(details(vm, sample.pageSizeBytes(), posture, sample.sampledAt()));
                output.out().flush();
            }
        }
        return 0;
    }

    /** The VM's guest RAM page by page: how and when measured, reclaimed, and every state (docs/RECLAIM.md). */
    private static void guestMemory(TextTable facts, VmSnapshot vm, Instant sampledAt) {
        Optional<GuestMemory> found = vm.guestMemory();
        if (found.isEmpty()) {
            facts.row(
                    "guest memory",
                    vm.domain().state().hasQemuProcess()
                            ? "not measured (no QEMU process found here)"
                            : "not measured (not running)");
            return;
        }
        GuestMemory m = found.get();
        facts.row("guest memory: method", m.methodDescription());
        facts.row(
                "guest memory: measured",
                CommandOutput.instant(m.measuredAt()) + " (" + VmCommands.age(m.ageMillis(sampledAt))
                        + " before the sample; the pass took " + m.workMillis() + " ms from "
                        + CommandOutput.instant(m.passStartedAt()) + ")");
        facts.row(
                "reclaimed (zero once backed + given back)",
                VmCommands.bytes(m.reclaimedBytes()) + " of " + ByteSize.format(m.guestRamPages() * m.pageSizeBytes())
                        + " guest RAM");
        GuestMemory.Pages p = m.pages();
        facts.row(
                "  resident (of it THP / HugeTLB)",
                VmCommands.pages(m, p.resident()) + " (" + VmCommands.pages(m, p.thp()) + " / "
                        + VmCommands.pages(m, p.hugetlb()) + ")");
        facts.row(
                "  KSM-shared (saves)", VmCommands.pages(m, p.ksm()) + " (" + VmCommands.pages(m, p.ksmSaved()) + ")");
        facts.row(
                "  zero page (of it never backed) / huge zero page",
                VmCommands.pages(m, p.zero()) + " (" + VmCommands.pages(m, p.zeroNeverBacked()) + ") / "
                        + VmCommands.pages(m, p.hugeZero()));
        facts.row("  swapped", VmCommands.pages(m, p.swapped()));
        facts.row(
                "  not present (of it given back)",
                VmCommands.pages(m, p.notPresent()) + " (" + VmCommands.pages(m, p.givenBack()) + ")");
        facts.row("  QEMU VmRSS", VmCommands.pages(m, m.processRssPages()));
    }

    static String details(VmSnapshot vm, long page, VmPosture posture, Instant sampledAt) {
        StringBuilder text = new StringBuilder();
        TextTable facts = new TextTable("VM " + vm.domain().name(), "");
        facts.row("uuid", vm.domain().uuid());
        facts.row("state", vm.domain().state().label());
        facts.row("vcpus", vm.domain().vcpus());
        facts.row(
                "memory",
                ByteSize.format(vm.domain().currentMemoryBytes()) + " of "
                        + ByteSize.format(vm.domain().maxMemoryBytes()));
        var stats = vm.domain().balloonStats();
        facts.row(
                "balloon: actual / unused / usable",
                VmCommands.bytes(stats.actualBytes()) + " / " + VmCommands.bytes(stats.unusedBytes()) + " / "
                        + VmCommands.bytes(stats.usableBytes()));
        facts.row(
                "balloon: available / disk caches / rss",
                VmCommands.bytes(stats.availableBytes()) + " / " + VmCommands.bytes(stats.diskCachesBytes()) + " / "
                        + VmCommands.bytes(stats.rssBytes()));
        facts.row(
                "memory backing",
                vm.config()
                        .map(c -> "nosharepages=" + c.memoryBacking().noSharePages() + " locked="
                                + c.memoryBacking().locked() + " hugepages="
                                + c.memoryBacking().hugepages())
                        .orElse("?"));
        facts.row("balloon device", VmCommands.balloon(vm.config()));
        facts.row(
                "agent channel",
                vm.config()
                        .flatMap(DomainXml::agentChannel)
                        .map(c -> c.socketPath().map(Path::toString).orElse("(path chosen by libvirt at start)"))
                        .orElse("none"));
        facts.row(
                "qemu-guest-agent channel",
                vm.config().map(c -> c.guestAgentChannel() ? "yes" : "no").orElse("?"));
        facts.row(
                "posture metadata",
                vm.config().flatMap(DomainXml::posture).map(Enum::name).orElse("none"));
        facts.row(
                "posture score",
                posture.score() + " / 100 (memhygiene posture --vm "
                        + vm.domain().name() + ")");
        facts.row(
                "qemu pid",
                vm.ksm()
                        .map(k -> String.valueOf(k.pid()))
                        .or(() -> vm.guestMemory().map(m -> String.valueOf(m.pid())))
                        .orElse(CommandOutput.MISSING));
        guestMemory(facts, vm, sampledAt);
        facts.row(
                "ksm_stat: merging / zero pages",
                vm.ksm()
                        .map(k -> k.stat().mergingPages().orElse(0) + " / "
                                + k.stat().zeroPages().orElse(0))
                        .orElse(CommandOutput.MISSING));
        facts.row(
                "ksm_stat: saved / profit",
                VmCommands.bytes(vm.ksmSavedBytes(page)) + " / "
                        + vm.ksm()
                                .map(k -> VmCommands.bytes(k.stat().processProfitBytes()))
                                .orElse(CommandOutput.MISSING));
        facts.row(
                "zero pages of unused",
                vm.zeroPagesPercentOfUnused(page).stream()
                        .mapToObj(p -> p + " %")
                        .findFirst()
                        .orElse(CommandOutput.MISSING));
        AgentSample agent = vm.agent();
        facts.row("agent", agent.status().label() + (agent.problem().isEmpty() ? "" : ": " + agent.problem()));
        agent.hello()
                .ifPresent(
                        h -> facts.row("agent version", h.agentVersion() + " (protocol " + h.protocolVersion() + ")"));
        agent.stats().ifPresent(s -> {
            facts.row(
                    "guest MemAvailable / MemTotal",
                    ByteSize.format(s.memAvailableBytes()) + " / " + ByteSize.format(s.memTotalBytes()));
            facts.row(
                    "guest scrubs",
                    s.scrub().scrubsRun() + ", " + ByteSize.format(s.scrub().totalBytesZeroed()) + " zeroed");
        });
        text.append(facts).append('\n');
        if (!agent.posture().isEmpty()) {
            TextTable findings = new TextTable("SEVERITY", "GUEST FINDING", "EVIDENCE");
            for (Finding f : agent.posture()) {
                findings.row(f.severity(), f.id(), f.evidence());
            }
            text.append(findings).append('\n');
        }
        if (!agent.events().isEmpty()) {
            TextTable events = new TextTable("TIME", "AGENT EVENT", "DETAIL");
            for (AgentEvent e : agent.events()) {
                events.row(e.at(), e.status(), e.detail());
            }
            text.append(events).append('\n');
        }
        return text.toString();
    }
}
