package org.memhygiene.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memhygiene.agent.posture.PostureProbe;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.cli.SizeConverter;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The guest agent's command line, {@code bin/memhygiene-agent} ({@link AgentMain} is its entry point):
 * with no subcommand it serves the host, as {@link AgentMain#main} does without picocli.
 */
@Command(name = "memhygiene-agent", mixinStandardHelpOptions = true,
        description = "Zeroes freed guest memory so the host's KSM can merge it with the zero page.",
        subcommands = {AgentCommand.Scrub.class, AgentCommand.Posture.class, CommandLine.HelpCommand.class})
final class AgentCommand implements Callable<Integer> {
    @Option(names = AgentMain.LISTEN, paramLabel = "ADDRESS",
            description = "Serve on unix:PATH, tcp:127.0.0.1:PORT or a character device path instead of the"
                    + " config file's listen (default /dev/virtio-ports/org.memhygiene.agent.0).")
    String listen;
    @CommandLine.Mixin
    ConfigFile configFile;
    @Spec
    CommandSpec spec;

    /** With no subcommand: serve the host until killed. */
    @Override
    public Integer call() throws Exception {
        AgentService service;
        try {
            service = AgentService.prepare(listen, configFile.file);
        } catch (AgentService.UsageException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        service.serve();
        return 0;
    }

    /** --config FILE, else $MEMHYGIENE_AGENT_CONFIG, else the defaults. */
    static final class ConfigFile {
        @Option(names = AgentMain.CONFIG, paramLabel = "FILE",
                description = "Read settings from FILE (default: $" + AgentConfig.ENVIRONMENT_VARIABLE
                        + ", set by memhygiene-agent.service to /etc/memhygiene/agent.yaml; else built-in defaults).")
        Path file;

        AgentConfig load(CommandSpec spec) {
            try {
                return AgentService.config(file);
            } catch (AgentService.UsageException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    /** Parses {@code args} and runs the command they name; the exit code. */
    static int run(String[] args) {
        return commandLine().execute(args);
    }

    public static CommandLine commandLine() {
        return CliErrors.configure(new CommandLine(new AgentCommand()), "memhygiene-agent");
    }

    @Command(name = "scrub", mixinStandardHelpOptions = true, description = {
            "Zero free memory once, within the safety limits of docs/SCRUBBING.md: at most MemAvailable minus"
                    + " the headroom (by default the larger of 256 MiB and 10%% of MemTotal; --config changes it);"
                    + " stops at once under memory pressure.",
            "Exit code 0 also when a limit stopped it early: the report says why."})
    static final class Scrub implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--max-bytes", paramLabel = "SIZE", converter = SizeConverter.class,
                description = "Zero at most SIZE (e.g. 512M, 2G; default: as much as is safe).")
        long maxBytes = Long.MAX_VALUE;
        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;
        @Option(names = "--proc-root", paramLabel = "DIR", hidden = true, description = "For tests.")
        Path procRoot = Path.of("/proc");
        @CommandLine.Mixin
        ConfigFile configFile;

        @Override
        public Integer call() throws JsonProcessingException {
            ScrubConfig config = configFile.load(spec).scrub();
            ScrubReport report = new Scrubber(config, procRoot, Clock.systemUTC()).scrub(maxBytes);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.mapper().writeValueAsString(report));
            } else {
                out.printf(Locale.ROOT, "outcome      %s%n", report.outcome().name().toLowerCase(Locale.ROOT));
                if (!report.reason().isEmpty()) {
                    out.printf(Locale.ROOT, "reason       %s%n", report.reason());
                }
                out.printf(Locale.ROOT, "zeroed       %s of %s targeted%n", ByteSize.format(report.bytesZeroed()),
                        ByteSize.format(report.targetBytes()));
                out.printf(Locale.ROOT, "duration     %d ms (%s/s)%n", report.durationMillis(),
                        ByteSize.format((long) report.throughputBytesPerSecond()));
                out.printf(Locale.ROOT, "chunks       %d completed, %d aborted%n", report.chunksCompleted(),
                        report.chunksAborted());
            }
            out.flush();
            return report.outcome() == ScrubReport.Outcome.FAILED ? CliErrors.EXIT_RUNTIME_ERROR : 0;
        }
    }

    @Command(name = "posture", mixinStandardHelpOptions = true,
            description = "What this guest does to protect memory: findings with evidence and remediation.")
    static final class Posture implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--json", description = "Print the findings as JSON.")
        boolean json;

        @Override
        public Integer call() throws JsonProcessingException {
            List<Finding> findings = PostureProbe.ofThisMachine().probe().stream()
                    .sorted(Comparator.comparing(Finding::severity).reversed().thenComparing(Finding::id)).toList();
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.mapper().writeValueAsString(findings));
            } else {
                for (Finding f : findings) {
                    out.printf(Locale.ROOT, "%-8s %-32s %s%n", f.severity(), f.id(), f.title());
                    out.printf(Locale.ROOT, "%-8s %-32s evidence: %s%n", "", "", f.evidence());
                    out.printf(Locale.ROOT, "%-8s %-32s fix: %s%n", "", "", f.remediation());
                }
            }
            out.flush();
            return 0;
        }
    }
}
