package org.memhygiene.controller.cli;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code memhygiene vms}, {@code vm show|scrub NAME} and {@code agent ping NAME}: the VMs libvirt knows and their agents. */
final class VmCommands {
    private VmCommands() {}

    /** The options of a command about one VM: which libvirt, and which domain. */
    static final class OneVm {
        @Mixin
        LibvirtOptions libvirt;

        @Parameters(paramLabel = "NAME", description = "The domain's name or UUID.")
        String name;
    }

    /** A VM that is not there is a usage error (exit 2) listing the VMs there are. */
    static CommandLine.ParameterException noSuchVm(CommandOutput output, NoSuchVmException e) {
        return new CommandLine.ParameterException(
                output.commandLine(),
                "no domain named '" + e.vm() + "' on " + e.host() + "; domains: " + String.join(", ", e.known()));
    }

    /** "12 s", "3 min": how old a figure is. */
    static String age(long millis) {
        long seconds = millis / 1000;
        return seconds < 120 ? seconds + " s" : seconds < 7200 ? seconds / 60 + " min" : seconds / 3600 + " h";
    }

    /** A page count of a measurement as bytes; "-" when the method does not measure it. */
    static String pages(GuestMemory m, OptionalLong count) {
        return bytes(m.inBytes(count));
    }

    static String pageBytes(Optional<GuestMemory> m, Function<GuestMemory.Pages, OptionalLong> state) {
        return bytes(m.map(measured -> measured.bytes(state)).orElse(OptionalLong.empty()));
    }

    static String bytes(OptionalLong value) {
        return value.isPresent() ? ByteSize.format(value.getAsLong()) : "-";
    }

    static String balloon(Optional<DomainXml> config) {
        return config.map(c -> c.balloon()
                        .map(b -> b.model() + (b.freePageReporting() ? "+fpr" : ""))
                        .orElse("none"))
                .orElse("?");
    }
}
