package org.memhygiene.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.List;
import java.util.concurrent.Callable;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureJson;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.posture.Finding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code memhygiene posture [--vm NAME]}: the memory-security score of the host and its VMs, with findings. */
@Command(
        name = "posture",
        mixinStandardHelpOptions = true,
        description = "Scores (0-100) how well the host and each VM keep memory from leaking: KSM merging across VMs,"
                + " the host's swap, CPU mitigations, each VM's memory backing and its agent's guest findings"
                + " (docs/POSTURE.md has the rubric). Reads only.")
final class PostureCommand implements Callable<Integer> {
    @Mixin
    LibvirtOptions libvirt;

    @Mixin
    JsonOutput output;

    @Option(names = "--vm", paramLabel = "NAME", description = "Only this VM (name or UUID), with the host's score.")
    String vm;

    @Override
    public Integer call() throws JsonProcessingException {
        HostSnapshot sample;
        HostPosture posture;
        try (HostBackend host = libvirt.open()) {
            // Every VM is sampled even for --vm: whether KSM merges across VMs depends on the others.
            sample = LibvirtOptions.sample(host);
            posture = PostureScorer.of(host).score(sample);
        }
        List<VmPosture> vms = posture.vms();
        if (vm != null) {
            vms = vms.stream()
                    .filter(v -> v.name().equals(vm) || v.uuid().equalsIgnoreCase(vm))
                    .toList();
            if (vms.isEmpty()) {
                throw new CommandLine.ParameterException(
                        output.commandLine(),
                        "no domain named '" + vm + "' on " + sample.uri() + "; domains: "
                                + String.join(
                                        ", ",
                                        posture.vms().stream()
                                                .map(VmPosture::name)
                                                .toList()));
            }
        }
        if (output.json()) {
            output.print(vm != null ? vms.get(0) : PostureJson.document(posture, sample.sampledAt()));
        } else {
            output.out().print(text(sample, posture, vms, vm == null));
            output.out().flush();
        }
        return 0;
    }

    static String text(HostSnapshot sample, HostPosture posture, List<VmPosture> vms, boolean hostFindings) {
        StringBuilder text = new StringBuilder();
        text.append("host ")
                .append(sample.uri())
                .append(": score ")
                .append(posture.hostScore())
                .append(" / 100\n");
        if (hostFindings) {
            text.append('\n').append(findings("HOST FINDING", posture.hostFindings()));
            TextTable scores = new TextTable("VM", "SCORE>", "HIGH>", "MEDIUM>", "LOW>", "WORST FINDING");
            for (VmPosture v : vms) {
                scores.row(
                        v.name(),
                        v.score(),
                        count(v, "HIGH") + count(v, "CRITICAL"),
                        count(v, "MEDIUM"),
                        count(v, "LOW"),
                        v.findings().isEmpty()
                                ? CommandOutput.MISSING
                                : v.findings().get(0).id());
            }
            text.append('\n').append(scores);
        } else {
            VmPosture v = vms.get(0);
            text.append("vm ")
                    .append(v.name())
                    .append(" (")
                    .append(v.uuid())
                    .append("): score ")
                    .append(v.score())
                    .append(" / 100\n\n")
                    .append(findings("FINDING", v.findings()));
        }
        return text.toString();
    }

    private static String findings(String title, List<Finding> findings) {
        TextTable table = new TextTable("SEVERITY", title, "EVIDENCE", "REMEDIATION");
        for (Finding f : findings) {
            table.row(f.severity(), f.id(), f.evidence(), f.remediation());
        }
        return table.toString();
    }

    private static long count(VmPosture vm, String severity) {
        return vm.findings().stream()
                .filter(f -> f.severity().name().equals(severity))
                .count();
    }
}
