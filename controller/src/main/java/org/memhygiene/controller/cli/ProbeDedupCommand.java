package org.memhygiene.controller.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "dedup",
        mixinStandardHelpOptions = true,
        description = {
            "Plant the same canary pages in the chosen VMs' agents, wait for ksmd's full scans (KSM's knobs as"
                    + " they are), then measure whether the host merged them across VMs (its QEMU processes'"
                    + " memory, pagemap and kpageflags) and whether each guest can see it (its canary writes"
                    + " against its control writes, a rank test at p < 0.001), and release every canary.",
            "docs/POSTURE.md, \"The deduplication canary\", explains the method and what it tells."
        })
final class ProbeDedupCommand implements Callable<Integer> {
    @Mixin
    LibvirtOptions libvirt;

    @Mixin
    JsonOutput output;

    @Option(
            names = "--vm",
            paramLabel = "NAME",
            description = "A VM to probe, by name or UUID; repeat for more (default: every running VM).")
    List<String> vms = new ArrayList<>();

    @Option(
            names = "--pages",
            paramLabel = "N",
            description = "Canary pages per VM, and as many control pages (default: ${DEFAULT-VALUE}; at most "
                    + CanaryBounds.MAX_PAGES + ").")
    int pages = CanaryBounds.DEFAULT_PAGES;

    @Option(
            names = "--full-scans",
            paramLabel = "N",
            description = "Full scans of ksmd to wait for after planting (default: ${DEFAULT-VALUE}).")
    int fullScans = DedupProbeRequest.DEFAULT_FULL_SCANS;

    @Option(
            names = "--deadline",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "The longest wait for those full scans (default: ${DEFAULT-VALUE}); at KSM's default rate"
                    + " a full scan of 4 GiB takes over 3 minutes.")
    Duration deadline = DedupProbeRequest.DEFAULT_DEADLINE;

    @Override
    public Integer call() {
        DedupProbeRequest request;
        try {
            request = new DedupProbeRequest(vms, pages, fullScans, deadline);
        } catch (IllegalArgumentException e) {
            throw output.usageError(e.getMessage());
        }
        try (HostBackend host = libvirt.open()) {
            DedupProbeReport report;
            try {
                report = host.probeDedup(request);
            } catch (NoSuchVmException e) {
                throw VmCommands.noSuchVm(output, e);
            }
            if (output.json()) {
                output.print(report);
            } else {
                output.out().print(text(report));
                output.out().flush();
            }
            return 0;
        }
    }

    static String text(DedupProbeReport r) {
        StringBuilder text = new StringBuilder();
        text.append(String.format(
                Locale.ROOT,
                "Deduplication probe, measured %s: %d canary and %d control pages of %s per VM%n",
                CommandOutput.instant(r.measuredAt()),
                r.pages(),
                r.pages(),
                ByteSize.format(r.pageSizeBytes())));
        DedupProbeReport.KsmAtProbe k = r.ksm();
        text.append(String.format(
                Locale.ROOT,
                "KSM as it was: run=%s use_zero_pages=%s merge_across_nodes=%s; waited: %s%n",
                k.run() < 0 ? CommandOutput.MISSING : k.run(),
                k.useZeroPages() == null ? CommandOutput.MISSING : k.useZeroPages() ? 1 : 0,
                k.mergeAcrossNodes() == null ? CommandOutput.MISSING : k.mergeAcrossNodes() ? 1 : 0,
                k.waited()));
        text.append("Host truth: ").append(r.hostTruthMethod()).append("\n\n");
        TextTable vms = new TextTable(
                "VM", "OUTCOME", "VERDICT", "FOUND>", "KSM>", "MERGED>", "CANARY>", "CONTROL>", "P>", "DETAIL");
        for (DedupProbeReport.VmProbe vm : r.vms()) {
            vms.row(
                    vm.name(),
                    vm.outcome().label(),
                    vm.verdict().label(),
                    vm.host().map(h -> Integer.toString(h.canaryPagesFound())).orElse(CommandOutput.MISSING),
                    vm.host().map(h -> Integer.toString(h.canaryPagesKsm())).orElse(CommandOutput.MISSING),
                    vm.host()
                            .map(h -> Integer.toString(h.canaryPagesMergedAcrossVms()))
                            .orElse(CommandOutput.MISSING),
                    vm.guest().map(g -> g.canaryMedianNanos() + " ns").orElse(CommandOutput.MISSING),
                    vm.guest().map(g -> g.controlMedianNanos() + " ns").orElse(CommandOutput.MISSING),
                    vm.guest()
                            .map(g -> String.format(Locale.ROOT, "%.2g", g.pValue()))
                            .orElse(CommandOutput.MISSING),
                    vm.detail().isEmpty() ? CommandOutput.MISSING : vm.detail());
        }
        text.append(vms);
        if (!r.pairs().isEmpty()) {
            text.append('\n');
            TextTable pairs = new TextTable("VM", "VM", "CANARY PAGES MERGED>");
            r.pairs().forEach(p -> pairs.row(p.vmA(), p.vmB(), Integer.toString(p.mergedPages())));
            text.append(pairs);
        }
        return text.toString();
    }
}
