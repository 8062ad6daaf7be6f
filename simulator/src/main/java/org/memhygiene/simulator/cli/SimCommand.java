package org.memhygiene.simulator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.ScenarioException;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;
import org.memhygiene.simulator.sweep.Sweep;
import org.memhygiene.simulator.sweep.SweepResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code memhygiene sim run|sweep SCENARIO.yaml}: the simulator from the command line (docs/SIMULATOR.md). */
@Command(name = "sim", mixinStandardHelpOptions = true,
        description = "Simulate a host of guests, their hygiene and KSM from a scenario file (docs/SIMULATOR.md).",
        subcommands = {SimCommand.Run.class, SimCommand.SweepCommand.class, CommandLine.HelpCommand.class})
public final class SimCommand {

    static Scenario load(CommandSpec spec, Path file) {
        try {
            return ScenarioParser.load(file);
        } catch (ScenarioException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "scenario " + e.getMessage());
        }
    }

    static Path checkedOut(CommandSpec spec, Path out) {
        if (out != null && !out.toString().endsWith(".csv") && !out.toString().endsWith(".json")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--out " + out + ": expected a file name ending in .csv or .json");
        }
        return out;
    }

    /** What run and sweep share: the scenario file, loaded (and --out checked) before anything runs. */
    abstract static class ScenarioCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "SCENARIO.yaml", description = "The scenario file.")
        Path scenario;

        /** The scenario, once {@code out} has been checked too; either wrong is a usage error. */
        Scenario load(Path out) {
            Scenario s = SimCommand.load(spec, scenario);
            checkedOut(spec, out);
            return s;
        }
    }

    /** All VMs' reclaimed memory, in total and by source: the columns both commands print and write. */
    record Reclaimed(long totalBytes, long sharingBytes, long zeroPageBytes, long freePageReportingBytes) {
        static Reclaimed of(Exposure e) {
            return new Reclaimed(e.reclaimedBytes(), e.vms().stream().mapToLong(Exposure.VmReclaim::sharingBytes).sum(),
                    e.vms().stream().mapToLong(Exposure.VmReclaim::zeroPageBytes).sum(),
                    e.vms().stream().mapToLong(Exposure.VmReclaim::freePageReportingBytes).sum());
        }

        void putInto(Map<String, Object> row) {
            row.put("reclaimed_bytes", totalBytes);
            row.put("reclaimed_sharing_bytes", sharingBytes);
            row.put("reclaimed_zero_page_bytes", zeroPageBytes);
            row.put("reclaimed_free_page_reporting_bytes", freePageReportingBytes);
        }
    }

    static void write(Path out, List<Map<String, Object>> rows) throws IOException {
        if (out.toString().endsWith(".json")) {
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ArrayNode array = json.createArrayNode();
            for (Map<String, Object> row : rows) {
                ObjectNode o = array.addObject();
                row.forEach((k, v) -> o.set(k, json.valueToTree(v)));
            }
            Files.writeString(out, json.writeValueAsString(array) + "\n", StandardCharsets.UTF_8);
            return;
        }
        StringBuilder b = new StringBuilder(String.join(",", rows.isEmpty() ? List.of() : rows.get(0).keySet())).append('\n');
        for (Map<String, Object> row : rows) {
            List<String> cells = new ArrayList<>();
            row.values().forEach(v -> cells.add(v instanceof String s && s.contains(",") ? "\"" + s + "\"" : String.valueOf(v)));
            b.append(String.join(",", cells)).append('\n');
        }
        Files.writeString(out, b, StandardCharsets.UTF_8);
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run a scenario in simulated time and print (or write) KSM counters, reclaimed memory and"
                    + " exposure every sample interval.")
    static final class Run extends ScenarioCommand {
        @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Simulated time to run (default: the scenario's duration).")
        Duration duration;
        @Option(names = "--every", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Simulated time between rows (default: the scenario's sample_interval).")
        Duration every;
        @Option(names = "--out", paramLabel = "FILE", description = "Write the rows to FILE (.csv or .json) instead of a table.")
        Path out;

        @Override
        public Integer call() throws IOException {
            Scenario s = load(out);
            Duration total = duration != null ? duration : s.duration();
            Duration step = every != null ? every : s.sampleInterval();
            PrintWriter w = spec.commandLine().getOut();
            List<Map<String, Object>> rows = new ArrayList<>();
            long started = System.nanoTime();
            // A fixed clock: only advance() moves simulated time, never the real time a snapshot takes.
            try (SimulatedHost host = SimulatedHost.of(s, java.time.Clock.fixed(java.time.Instant.parse("2026-01-01T00:00:00Z"),
                    java.time.ZoneOffset.UTC), 1)) {
                if (out == null) {
                    w.printf("%8s %10s %10s %10s %10s %6s %11s %9s %7s %13s %6s%n", "t", "shared", "sharing", "unshared",
                            "zero_pages", "scans", "reclaimed", "cross_vm", "secret", "stale_sec_p*s", "cpu%");
                }
                for (Duration t = Duration.ZERO; t.compareTo(total) < 0; ) {
                    Duration next = t.plus(step).compareTo(total) > 0 ? total : t.plus(step);
                    host.advance(next.minus(t));
                    t = next;
                    Map<String, Object> row = row(host);
                    rows.add(row);
                    if (out == null) {
                        w.printf(Locale.ROOT, "%8s %10d %10d %10d %10d %6d %11s %9d %7d %13d %6.2f%n", format(t),
                                row.get("pages_shared"), row.get("pages_sharing"), row.get("pages_unshared"),
                                row.get("ksm_zero_pages"), row.get("full_scans"), ByteSize.format((Long) row.get("reclaimed_bytes")),
                                row.get("cross_vm_merged_nonzero_pages"), row.get("merged_secret_pages"),
                                row.get("stale_secret_page_seconds"), row.get("ksmd_cpu_percent"));
                    }
                }
                Simulation sim = host.simulation();
                w.flush();
                spec.commandLine().getErr().printf(Locale.ROOT,
                        "memhygiene: simulated %s of %s (%d guests, %,d pages) in %.1f s%s%n", format(total), s.name(),
                        s.guests().size(), sim.model().pageCount, (System.nanoTime() - started) / 1e9,
                        out != null ? "; rows in " + out : "");
            }
            if (out != null) {
                write(out, rows);
            }
            return 0;
        }

        static Map<String, Object> row(SimulatedHost host) {
            KsmStats k = host.snapshot().ksm().orElseThrow().stats();
            Exposure e = host.exposure();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("seconds", e.elapsed().toMillis() / 1000.0);
            row.put("pages_shared", k.pagesShared().orElseThrow());
            row.put("pages_sharing", k.pagesSharing().orElseThrow());
            row.put("pages_unshared", k.pagesUnshared().orElseThrow());
            row.put("pages_volatile", k.pagesVolatile().orElseThrow());
            row.put("ksm_zero_pages", k.ksmZeroPages().orElseThrow());
            row.put("full_scans", k.fullScans().orElseThrow());
            row.put("pages_scanned", k.pagesScanned().orElseThrow());
            row.put("general_profit", k.generalProfitBytes().orElseThrow());
            Reclaimed.of(e).putInto(row);
            row.put("cross_vm_merged_nonzero_pages", e.crossVmMergedNonZeroPages());
            row.put("merged_secret_pages", e.mergedSecretPages());
            row.put("stale_secret_pages", e.staleSecretPages());
            row.put("stale_secret_page_seconds", Math.round(e.staleSecretPageSeconds()));
            row.put("ksmd_cpu_percent", Math.round(e.ksmdCpuPercent() * 100) / 100.0);
            return row;
        }
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : d.toMillis() / 1000.0 + "s";
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true,
            description = "Run a scenario for every KSM policy x guest hygiene mode and print memory reclaimed against"
                    + " exposure; * marks the frontier (nothing else reclaims as much for as little exposure).")
    static final class SweepCommand extends ScenarioCommand {
        @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "Simulated time per cell (default: the scenario's duration).")
        Duration duration;
        @Option(names = "--out", paramLabel = "FILE", description = "Also write the table to FILE (.csv or .json).")
        Path out;

        @Override
        public Integer call() throws IOException {
            Scenario s = load(out);
            List<SweepResult> results = Sweep.run(s, Sweep.defaultPolicies(), Sweep.defaultModes(),
                    duration != null ? duration : s.duration());
            PrintWriter w = spec.commandLine().getOut();
            w.printf("%-32s %11s %10s %10s %9s %9s %14s %6s %s%n", "policy / hygiene", "reclaimed", "sharing",
                    "zero", "reported", "cross_vm", "stale_sec_p*s", "cpu%", "frontier");
            List<Map<String, Object>> rows = new ArrayList<>();
            for (SweepResult r : results) {
                Exposure e = r.exposure();
                Reclaimed reclaimed = Reclaimed.of(e);
                w.printf(Locale.ROOT, "%-32s %11s %10s %10s %9s %9d %14.0f %6.2f %s%n", r.label(),
                        ByteSize.format(reclaimed.totalBytes()), ByteSize.format(reclaimed.sharingBytes()),
                        ByteSize.format(reclaimed.zeroPageBytes()), ByteSize.format(reclaimed.freePageReportingBytes()),
                        e.crossVmMergedNonZeroPages(), e.staleSecretPageSeconds(),
                        e.ksmdCpuPercent(), r.frontier() ? "*" : "");
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("policy", r.policy());
                row.put("hygiene", r.hygieneMode().label());
                row.put("settings", r.settings().toString());
                reclaimed.putInto(row);
                row.put("cross_vm_merged_nonzero_pages", e.crossVmMergedNonZeroPages());
                row.put("merged_secret_pages", e.mergedSecretPages());
                row.put("stale_secret_page_seconds", Math.round(e.staleSecretPageSeconds()));
                row.put("ksmd_cpu_percent", Math.round(e.ksmdCpuPercent() * 100) / 100.0);
                row.put("frontier", r.frontier());
                rows.add(row);
            }
            if (out != null) {
                write(out, rows);
            }
            return 0;
        }
    }
}
