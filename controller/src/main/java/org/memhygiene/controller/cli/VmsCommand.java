package org.memhygiene.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.memhygiene.controller.host.SnapshotJson;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.core.units.Count;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "vms",
        mixinStandardHelpOptions = true,
        description = "One row per VM: state, memory, the guest RAM reclaimed from it (zero-mapped and given back,"
                + " measured page by page, with how), what ksm_stat accounts to it, its agent, balloon and free page"
                + " reporting, whether its memory may be shared.")
final class VmsCommand implements Callable<Integer> {
    @Mixin
    LibvirtOptions libvirt;

    @Mixin
    JsonOutput output;

    @Option(
            names = "--enable-balloon-stats",
            paramLabel = "SECONDS",
            arity = "0..1",
            fallbackValue = "5",
            description = "Opt-in: where a running VM's virtio balloon reports no statistics (period 0, QEMU's"
                    + " default), make it report every SECONDS (default 5) until the VM stops. Without it the"
                    + " UNUSED column stays empty for such VMs.")
    Integer balloonStatsPeriodSeconds;

    @Override
    public Integer call() throws JsonProcessingException {
        try (HostBackend host = libvirt.open()) {
            if (balloonStatsPeriodSeconds != null) {
                if (balloonStatsPeriodSeconds <= 0) {
                    throw new CommandLine.ParameterException(
                            output.commandLine(),
                            "--enable-balloon-stats must be a" + " positive number of seconds, was "
                                    + balloonStatsPeriodSeconds);
                }
                for (String vm : host.enableBalloonStats(Duration.ofSeconds(balloonStatsPeriodSeconds))) {
                    output.commandLine()
                            .getErr()
                            .println("memhygiene: " + vm + ": balloon statistics every " + balloonStatsPeriodSeconds
                                    + " s");
                }
            }
            HostSnapshot sample = LibvirtOptions.sample(host);
            HostPosture posture = PostureScorer.of(host).score(sample);
            if (output.json()) {
                output.print(SnapshotJson.vms(sample, posture));
            } else {
                output.out().print(table(sample, posture));
                output.out().flush();
            }
        }
        return 0;
    }

    static String table(HostSnapshot sample, HostPosture posture) {
        long page = sample.pageSizeBytes();
        TextTable table = new TextTable(
                "NAME",
                "STATE",
                "VCPUS>",
                "MEMORY>",
                "RECLAIMED>",
                "ZERO>",
                "GIVEN BACK>",
                "KSM SAVED>",
                "HOW",
                "KSM_STAT SAVED>",
                "KSM_STAT ZERO>",
                "UNUSED>",
                "AGENT",
                "BALLOON",
                "SHARING",
                "POSTURE",
                "SCORE>");
        // One footnote per way of measuring, so that every RECLAIMED figure says how it was measured.
        List<String> methods = new ArrayList<>();
        Map<String, List<String>> byMethod = new LinkedHashMap<>();
        for (int i = 0; i < sample.vms().size(); i++) {
            VmSnapshot vm = sample.vms().get(i);
            Optional<GuestMemory> measured = vm.guestMemory();
            String how = measured.map(m -> {
                        String description = m.methodDescription();
                        if (!methods.contains(description)) {
                            methods.add(description);
                        }
                        byMethod.computeIfAbsent(description, d -> new ArrayList<>())
                                .add(vm.domain().name());
                        return "[" + (methods.indexOf(description) + 1) + "] "
                                + VmCommands.age(m.ageMillis(sample.sampledAt()));
                    })
                    .orElse(CommandOutput.MISSING);
            table.row(
                    vm.domain().name(),
                    vm.domain().state().label(),
                    vm.domain().vcpus(),
                    ByteSize.format(vm.domain().currentMemoryBytes()) + " / "
                            + ByteSize.format(vm.domain().maxMemoryBytes()),
                    VmCommands.bytes(vm.reclaimedBytes()),
                    VmCommands.pageBytes(measured, GuestMemory.Pages::zeroReclaimed),
                    VmCommands.pageBytes(measured, GuestMemory.Pages::givenBack),
                    VmCommands.pageBytes(measured, GuestMemory.Pages::ksmSaved),
                    how,
                    VmCommands.bytes(vm.ksmSavedBytes(page)),
                    VmCommands.bytes(vm.zeroPageBytes(page)),
                    VmCommands.bytes(vm.domain().balloonStats().unusedBytes()),
                    vm.agent().status().label(),
                    VmCommands.balloon(vm.config()),
                    vm.sharingAllowed()
                            .map(allowed -> allowed ? "allowed" : "off")
                            .orElse("?"),
                    vm.config()
                            .flatMap(DomainXml::posture)
                            .map(PostureLevel::label)
                            .orElse(CommandOutput.MISSING),
                    posture.vms().get(i).score());
        }
        StringBuilder notes = new StringBuilder(
                "\nRECLAIMED = ZERO (mapped to the zero page after it held data) + GIVEN BACK: guest RAM that"
                        + " left its QEMU process's RSS (docs/RECLAIM.md); HOW: how it was measured, and how long before the sample."
                        + "\nKSM_STAT: what /proc/PID/ksm_stat accounts to the QEMU process (merged + zero pages; not the zero pages"
                        + " of split THPs).\nSCORE: the posture rubric's (docs/POSTURE.md); whether a VM's memory is merged"
                        + " with other VMs' is assumed from its configuration here: memhygiene probe dedup measures it, and the"
                        + " daemon's GET /api/v1/vms carries a probe's measurement (posture.measured_at).\n");
        for (int i = 0; i < methods.size(); i++) {
            notes.append("[")
                    .append(i + 1)
                    .append("] ")
                    .append(methods.get(i))
                    .append(": ")
                    .append(String.join(", ", byMethod.get(methods.get(i))))
                    .append('\n');
        }
        return "libvirt " + sample.uri() + ", " + Count.of(sample.vms().size(), "domain") + ", sampled in "
                + sample.took().toMillis() + " ms; host posture score " + posture.hostScore()
                + " (memhygiene posture)\n\n" + table + notes;
    }
}
