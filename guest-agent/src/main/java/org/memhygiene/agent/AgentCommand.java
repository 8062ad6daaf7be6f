package org.memhygiene.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.memhygiene.agent.canary.Canary;
import org.memhygiene.agent.posture.PostureProbe;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.SafetyLimits;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.canary.CanaryDerivation;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.cli.SizeConverter;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The guest agent's command line, {@code bin/memhygiene-agent} ({@link AgentMain} is its entry point):
 * with no subcommand it serves the host, as {@link AgentMain#main} does without picocli.
 */
@Command(
        name = "memhygiene-agent",
        mixinStandardHelpOptions = true,
        description = "Zeroes freed guest memory so the host's KSM can merge it with the zero page.",
        subcommands = {
            AgentCommand.Scrub.class,
            AgentCommand.Posture.class,
            AgentCommand.CanaryProbe.class,
            CommandLine.HelpCommand.class
        })
public final class AgentCommand implements Callable<Integer> {
    @Option(
            names = AgentMain.LISTEN,
            paramLabel = "ADDRESS",
            description = "Serve on unix:PATH, tcp:127.0.0.1:PORT or a character device path instead of the"
                    + " config file's listen (default /dev/virtio-ports/org.memhygiene.agent.0).")
    String listen;

    @CommandLine.Mixin
    ConfigFile configFile;

    @CommandLine.Mixin
    CommandOutput output;

    /** With no subcommand: serve the host until killed. */
    @Override
    public Integer call() throws Exception {
        AgentService service;
        try {
            service = AgentService.prepare(listen, configFile.file);
        } catch (AgentService.UsageException e) {
            throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
        }
        service.serve();
        return 0;
    }

    /** --config FILE, else $MEMHYGIENE_AGENT_CONFIG, else the defaults. */
    static final class ConfigFile {
        @Option(
                names = AgentMain.CONFIG,
                paramLabel = "FILE",
                description = "Read settings from FILE (default: $" + AgentConfig.ENVIRONMENT_VARIABLE
                        + ", set by memhygiene-agent.service to /etc/memhygiene/agent.yaml; else built-in defaults).")
        Path file;

        AgentConfig load(CommandOutput output) {
            try {
                return AgentService.config(file);
            } catch (AgentService.UsageException e) {
                throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
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

    @Command(
            name = "scrub",
            mixinStandardHelpOptions = true,
            description = {
                "Zero free memory once, within the safety limits of docs/SCRUBBING.md: at most MemAvailable minus"
                        + " the headroom (by default the larger of 256 MiB and 10%% of MemTotal; --config changes it);"
                        + " stops at once under memory pressure.",
                "Exit code 0 also when a limit stopped it early: the report says why."
            })
    static final class Scrub implements Callable<Integer> {
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
        ConfigFile configFile;

        @Override
        public Integer call() throws JsonProcessingException {
            ScrubConfig config = configFile.load(output).scrub();
            ScrubReport report = new Scrubber(config, procRoot, Clock.systemUTC()).scrub(maxBytes);
            PrintWriter out = output.out();
            if (output.json()) {
                output.print(report);
            } else {
                out.printf(
                        Locale.ROOT,
                        "outcome      %s%n",
                        report.outcome().name().toLowerCase(Locale.ROOT));
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

    @Command(
            name = "posture",
            mixinStandardHelpOptions = true,
            description = "What this guest does to protect memory: findings with evidence and remediation.")
    static final class Posture implements Callable<Integer> {
        @CommandLine.Mixin
        JsonOutput output;

        @Override
        public Integer call() throws JsonProcessingException {
            List<Finding> findings = PostureProbe.ofThisMachine().probe().stream()
                    .sorted(Comparator.comparing(Finding::severity).reversed().thenComparing(Finding::id))
                    .toList();
            PrintWriter out = output.out();
            if (output.json()) {
                output.print(findings);
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

    @Command(
            name = "canary",
            mixinStandardHelpOptions = true,
            description = {
                "Plant a deduplication canary, time one write to each of its pages, release it and print the"
                        + " write times (docs/PROTOCOL.md \"canary-plant\"): N pages whose contents derive from the nonce,"
                        + " the same in every guest given the same nonce, and N control pages of random contents.",
                "With the same --nonce in two guests and a --hold long enough for the host's ksmd to merge the canary"
                        + " pages, a merged page's write takes a copy-on-write fault in the host: slower than the controls'.",
                "Exit code 1 when the headroom, memory pressure or the locked-memory limit refuses the canary."
            })
    static final class CanaryProbe implements Callable<Integer> {
        @CommandLine.Mixin
        JsonOutput output;

        @Option(
                names = "--nonce",
                paramLabel = "HEX",
                description = "16 to 32 bytes as hex digits (default: 32 random bytes).")
        String nonce;

        @Option(
                names = "--pages",
                paramLabel = "N",
                description = "Canary pages, and as many control pages (default 256; at most 1024 and 4 MiB of pages).")
        Long pages;

        @Option(
                names = "--hold",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description =
                        "Keep the canary planted this long before timing it, e.g. 5m while ksmd merges it (at most 1h).")
        Duration hold;

        @CommandLine.Mixin
        ConfigFile configFile;

        @Override
        public Integer call() throws InterruptedException, JsonProcessingException {
            long pageBytes = LinuxMemory.pageSizeBytes();
            byte[] nonceBytes;
            int pageCount;
            try {
                nonceBytes = nonce != null ? CanaryBounds.parseNonce("--nonce", nonce) : randomNonce();
                pageCount = CanaryBounds.checkPages(
                        "--pages", pages != null ? pages : CanaryBounds.defaultPages(pageBytes), pageBytes);
                if (hold != null && hold.toMillis() > CanaryBounds.MAX_LEASE_MILLIS) {
                    throw new IllegalArgumentException("--hold = " + hold.toMillis() + " ms: expected at most "
                            + CanaryBounds.MAX_LEASE_MILLIS + " ms, the longest lease a host may give a canary");
                }
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
            }
            ScrubConfig config = configFile.load(output).scrub();
            CanaryTimings timings;
            long lockedBytes;
            try (Canary canary =
                    Canary.plant(nonceBytes, pageCount, new SafetyLimits(new ProcMemory(Path.of("/proc"))), config)) {
                lockedBytes = canary.lockedBytes();
                if (hold != null) {
                    Thread.sleep(hold.toMillis());
                }
                timings = canary.time();
            }
            PrintWriter out = output.out();
            if (output.json()) {
                output.print(timings);
            } else {
                out.printf(Locale.ROOT, "nonce     %s (contents %s)%n", timings.nonce(), CanaryDerivation.NAME);
                out.printf(
                        Locale.ROOT,
                        "pages     %d canary + %d control of %d bytes, %s locked, held %s before the writes%n",
                        pageCount,
                        pageCount,
                        pageBytes,
                        ByteSize.format(lockedBytes),
                        hold == null ? "0 ms" : hold.toMillis() + " ms");
                out.printf(
                        Locale.ROOT,
                        "clock     System.nanoTime (CLOCK_MONOTONIC), resolution %d ns; one write per page,"
                                + " in a random order that interleaves both kinds%n",
                        timings.clockResolutionNanos());
                out.printf(
                        Locale.ROOT,
                        "%-9s %7s %10s %10s %10s %10s%n",
                        "WRITES",
                        "COUNT",
                        "MIN NS",
                        "MEDIAN NS",
                        "P90 NS",
                        "MAX NS");
                for (var kind :
                        List.of(Map.entry("canary", timings.canary()), Map.entry("control", timings.control()))) {
                    CanaryTimings.WriteSummary summary = kind.getValue().summary();
                    out.printf(
                            Locale.ROOT,
                            "%-9s %7d %10d %10d %10d %10d%n",
                            kind.getKey(),
                            summary.count(),
                            summary.minNanos(),
                            summary.medianNanos(),
                            summary.p90Nanos(),
                            summary.maxNanos());
                }
            }
            out.flush();
            return 0;
        }

        private static byte[] randomNonce() {
            byte[] nonce = new byte[CanaryBounds.MAX_NONCE_BYTES];
            new SecureRandom().nextBytes(nonce);
            return nonce;
        }
    }
}
