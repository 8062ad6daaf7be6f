package org.memhygiene.controller.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.cli.SizeConverter;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "scrub",
        mixinStandardHelpOptions = true,
        description = "Ask the VM's agent to zero the guest's free memory once (within the agent's safety limits)"
                + " and print its report.")
final class VmScrubCommand implements Callable<Integer> {
    @Mixin
    VmCommands.OneVm target;

    @Mixin
    JsonOutput output;

    @Option(
            names = "--max-bytes",
            paramLabel = "SIZE",
            converter = SizeConverter.class,
            description = "Zero at most SIZE (e.g. 512M, 2G; default: as much as the guest can spare).")
    long maxBytes = Long.MAX_VALUE;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "How long to wait for the scrub's report (default: ${DEFAULT-VALUE}).")
    Duration timeout = Duration.ofMinutes(10);

    @Override
    public Integer call() throws Exception {
        try (HostBackend host = target.libvirt.open()) {
            ScrubReport report;
            try {
                report = host.scrub(target.name, maxBytes, timeout);
            } catch (NoSuchVmException e) {
                throw VmCommands.noSuchVm(output, e);
            }
            PrintWriter out = output.out();
            if (output.json()) {
                output.print(report);
            } else {
                out.printf(
                        Locale.ROOT,
                        "%s: %s, %s zeroed of %s targeted in %d ms%s%n",
                        target.name,
                        report.outcome().name().toLowerCase(Locale.ROOT),
                        ByteSize.format(report.bytesZeroed()),
                        ByteSize.format(report.targetBytes()),
                        report.durationMillis(),
                        report.reason().isEmpty() ? "" : " (" + report.reason() + ")");
            }
            out.flush();
            return report.outcome() == ScrubReport.Outcome.FAILED ? 1 : 0;
        }
    }
}
