package org.memhygiene.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.cli.SizeConverter;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "scrub",
        mixinStandardHelpOptions = true,
        description = {
            "Zero free memory once, within the safety limits of docs/SCRUBBING.md: at most MemAvailable minus"
                    + " the headroom (by default the larger of 256 MiB and 10%% of MemTotal; --config changes it);"
                    + " stops at once under memory pressure.",
            "Exit code 0 also when a limit stopped it early: the report says why."
        })
final class AgentScrubCommand implements Callable<Integer> {
    @CommandLine.Mixin
    JsonOutput output;

    @Option(
            names = "--max-bytes",
            paramLabel = "SIZE",
            converter = SizeConverter.class,
            description = "Zero at most SIZE (e.g. 512M, 2G; default: as much as is safe).")
    long maxBytes = Long.MAX_VALUE;

    @Option(names = "--proc-root", paramLabel = "DIR", hidden = true, description = "For tests.")
    Path procRoot = Path.of("/proc");

    @CommandLine.Mixin
    AgentCommand.ConfigFile configFile;

    @Override
    public Integer call() throws JsonProcessingException {
        ScrubConfig config = configFile.load(output).scrub();
        ScrubReport report = new Scrubber(config, procRoot, Clock.systemUTC()).scrub(maxBytes);
        PrintWriter out = output.out();
        if (output.json()) {
            output.print(report);
        } else {
            out.printf(Locale.ROOT, "outcome      %s%n", report.outcome().name().toLowerCase(Locale.ROOT));
            if (!report.reason().isEmpty()) {
                out.printf(Locale.ROOT, "reason       %s%n", report.reason());
            }
            out.printf(
                    Locale.ROOT,
                    "zeroed       %s of %s targeted%n",
                    ByteSize.format(report.bytesZeroed()),
                    ByteSize.format(report.targetBytes()));
            out.printf(Locale.ROOT, "duration     %d ms (%s/s)%n", report.durationMillis(), ByteSize.format((long)
                    report.throughputBytesPerSecond()));
            out.printf(
                    Locale.ROOT,
                    "chunks       %d completed, %d aborted%n",
                    report.chunksCompleted(),
                    report.chunksAborted());
        }
        out.flush();
        return report.outcome() == ScrubReport.Outcome.FAILED ? CliErrors.EXIT_RUNTIME_ERROR : 0;
    }
}
