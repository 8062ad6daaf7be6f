package org.memhygiene.simulator.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.sweep.Sweep;
import org.memhygiene.simulator.sweep.SweepResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "sweep",
        mixinStandardHelpOptions = true,
        description = "Run a scenario for every KSM policy x guest hygiene mode and print memory reclaimed against"
                + " exposure; * marks the frontier (nothing else reclaims as much for as little exposure).")
final class SimSweepCommand extends SimCommand.ScenarioCommand {
    @Option(
            names = "--duration",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Simulated time per cell (default: the scenario's duration).")
    Duration duration;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the table to FILE (.csv or .json).")
    Path out;

    @Override
    public Integer call() throws IOException {
        Scenario s = load(out);
        List<SweepResult> results = Sweep.run(
                s,
                Sweep.defaultPolicies(),
                Sweep.defaultModes(),
                duration != null ? duration : s.duration(),
                engine,
                Sweep.parallelism(
                        s,
                        Runtime.getRuntime().availableProcessors(),
                        Runtime.getRuntime().maxMemory()));
        PrintWriter w = output.out();
        w.printf(
                "%-32s %11s %10s %10s %9s %9s %14s %6s %s%n",
                "policy / hygiene",
                "reclaimed",
                "sharing",
                "zero",
                "reported",
                "cross_vm",
                "stale_sec_p*s",
                "cpu%",
                "frontier");
        List<SimCommand.SweepRow> rows = new ArrayList<>();
        for (SweepResult r : results) {
            Exposure e = r.exposure();
            SimCommand.Reclaimed reclaimed = SimCommand.Reclaimed.of(e);
            w.printf(
                    Locale.ROOT,
                    "%-32s %11s %10s %10s %9s %9d %14.0f %6.2f %s%n",
                    r.label(),
                    ByteSize.format(reclaimed.reclaimedBytes()),
                    ByteSize.format(reclaimed.reclaimedSharingBytes()),
                    ByteSize.format(reclaimed.reclaimedZeroPageBytes()),
                    ByteSize.format(reclaimed.reclaimedFreePageReportingBytes()),
                    e.crossVmMergedNonZeroPages(),
                    e.staleSecretPageSeconds(),
                    e.ksmdCpuPercent(),
                    r.frontier() ? "*" : "");
            SimCommand.SweepRow row = new SimCommand.SweepRow(
                    r.policy(),
                    r.hygieneMode().label(),
                    r.settings().knobValues(), // an object in JSON, as a decision's "ksm"
                    reclaimed,
                    e.crossVmMergedNonZeroPages(),
                    e.mergedSecretPages(),
                    Math.round(e.staleSecretPageSeconds()),
                    Math.round(e.ksmdCpuPercent() * 100) / 100.0,
                    r.frontier());
            rows.add(row);
        }
        if (out != null) {
            SimCommand.write(out, rows);
        }
        return 0;
    }
}
