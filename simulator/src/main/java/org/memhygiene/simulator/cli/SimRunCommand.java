package org.memhygiene.simulator.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Locale;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.scenario.Scenario;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Run a scenario in simulated time and print (or write) KSM counters, reclaimed memory and"
                + " exposure every sample interval.")
final class SimRunCommand extends SimCommand.ScenarioCommand {
    @Option(
            names = "--duration",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Simulated time to run (default: the scenario's duration).")
    Duration duration;

    @Option(
            names = "--every",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Simulated time between rows (default: the scenario's sample_interval).")
    Duration every;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            description = "Write the rows to FILE (.csv or .json) instead of a table.")
    Path out;

    @Override
    public Integer call() throws IOException {
        Scenario s = load(out);
        Duration total = duration != null ? duration : s.duration();
        Duration step = every != null ? every : s.sampleInterval();
        long rows = (total.toNanos() + step.toNanos() - 1) / step.toNanos();
        if (rows > SimCommand.MAX_ROWS) {
            throw new CommandLine.ParameterException(
                    output.commandLine(),
                    String.format(
                            Locale.ROOT,
                            "%s over %s makes %,d rows, more than %,d: give a longer %s or a shorter %s",
                            duration != null
                                    ? "--duration " + SimCommand.format(total)
                                    : "the scenario's duration " + SimCommand.format(total),
                            every != null
                                    ? "--every " + SimCommand.format(step)
                                    : "sample_interval " + SimCommand.format(step),
                            rows,
                            SimCommand.MAX_ROWS,
                            every != null ? "--every" : "sample_interval (or --every)",
                            duration != null ? "--duration" : "duration (or --duration)"));
        }
        PrintWriter w = output.out();
        long started = System.nanoTime();
        // A fixed clock: only advance() moves simulated time, never the real time a snapshot takes.
        try (SimulatedHost host = SimulatedHost.of(
                        s, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), 1, engine);
                SimCommand.RowWriter file = out != null ? new SimCommand.RowWriter(out) : null) {
            if (out == null) {
                w.println(SimCommand.tableHeader());
            }
            for (Duration t = Duration.ZERO; t.compareTo(total) < 0; ) {
                Duration next = t.plus(step).compareTo(total) > 0 ? total : t.plus(step);
                host.advance(next.minus(t));
                t = next;
                SimCommand.RunRow row = row(host);
                if (file != null) {
                    file.write(row);
                } else {
                    w.println(SimCommand.tableLine(row));
                }
            }
            Simulation sim = host.simulation();
            w.flush();
            output.commandLine()
                    .getErr()
                    .printf(
                            Locale.ROOT,
                            "memhygiene: simulated %s of %s (%d guests, %,d pages) in %.1f s, %,d rows%s%n",
                            SimCommand.format(total),
                            s.name(),
                            s.guests().size(),
                            sim.model().pageCount,
                            (System.nanoTime() - started) / 1e9,
                            rows,
                            out != null ? " in " + out : "");
        }
        return 0;
    }

    static SimCommand.RunRow row(SimulatedHost host) {
        KsmStats k = host.snapshot().ksm().orElseThrow().stats();
        Exposure e = host.exposure();
        return new SimCommand.RunRow(
                e.elapsed().toMillis() / 1000.0,
                k.pagesShared().orElseThrow(),
                k.pagesSharing().orElseThrow(),
                k.pagesUnshared().orElseThrow(),
                k.pagesVolatile().orElseThrow(),
                k.pagesScanned().orElseThrow(),
                k.pagesSkipped().orElseThrow(),
                k.fullScans().orElseThrow(),
                k.ksmZeroPages().orElseThrow(),
                k.generalProfitBytes().orElseThrow(),
                k.stableNodeChains().orElseThrow(),
                k.stableNodeDups().orElseThrow(),
                host.simulation().residentPages(),
                SimCommand.Reclaimed.of(e),
                e.crossVmMergedNonZeroPages(),
                e.mergedSecretPages(),
                e.staleSecretPages(),
                Math.round(e.staleSecretPageSeconds()),
                Math.round(e.ksmdCpuPercent() * 100) / 100.0);
    }
}
