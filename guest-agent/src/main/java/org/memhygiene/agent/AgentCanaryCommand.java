package org.memhygiene.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.memhygiene.agent.canary.Canary;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.SafetyLimits;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.canary.CanaryDerivation;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
final class AgentCanaryCommand implements Callable<Integer> {
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
    AgentCommand.ConfigFile configFile;

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
            for (var kind : List.of(Map.entry("canary", timings.canary()), Map.entry("control", timings.control()))) {
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
