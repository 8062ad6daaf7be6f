package org.memhygiene.simulator.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.type.TypeReference;
import java.io.Closeable;
import java.io.IOException;
import java.io.Writer;
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
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.ScenarioException;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code memhygiene sim run|sweep SCENARIO.yaml}: the simulator from the command line (docs/SIMULATOR.md). */
@Command(
        name = "sim",
        mixinStandardHelpOptions = true,
        description = "Simulate a host of guests, their hygiene and KSM from a scenario file (docs/SIMULATOR.md).",
        subcommands = {SimRunCommand.class, SimSweepCommand.class, CommandLine.HelpCommand.class})
public final class SimCommand {

    static Scenario load(CommandOutput output, Path file) {
        try {
            return ScenarioParser.load(file);
        } catch (ScenarioException e) {
            throw new CommandLine.ParameterException(output.commandLine(), "scenario " + e.getMessage());
        }
    }

    static Path checkedOut(CommandOutput output, Path out) {
        if (out != null && !out.toString().endsWith(".csv") && !out.toString().endsWith(".json")) {
            throw new CommandLine.ParameterException(
                    output.commandLine(), "--out " + out + ": expected a file name ending in .csv or .json");
        }
        return out;
    }

    /** What run and sweep share: the scenario file, loaded (and --out checked) before anything runs. */
    abstract static class ScenarioCommand implements Callable<Integer> {
        @Mixin
        CommandOutput output;

        @Parameters(paramLabel = "SCENARIO.yaml", description = "The scenario file.")
        Path scenario;

        @Option(
                names = "--engine",
                paramLabel = "ENGINE",
                converter = EngineConverter.class,
                description = "How the simulated ksmd walks pages: skip-settled (the default) or page-by-page (the"
                        + " reference); both give identical results (docs/SIMULATOR.md, \"Scan engines\").")
        ScanEngine engine = ScanEngine.SKIP_SETTLED;

        /** The scenario, once {@code out} has been checked too; either wrong is a usage error. */
        Scenario load(Path out) {
            Scenario s = SimCommand.load(output, scenario);
            checkedOut(output, out);
            return s;
        }
    }

    static final class EngineConverter implements CommandLine.ITypeConverter<ScanEngine> {
        @Override
        public ScanEngine convert(String value) {
            return ScanEngine.parse(value)
                    .orElseThrow(() -> new CommandLine.TypeConversionException(
                            "'" + value + "' is not a scan engine; expected one of " + ScanEngine.labels()));
        }
    }

    /** All VMs' reclaimed memory, in total and by source: the columns both commands print and write. */
    record Reclaimed(
            long reclaimedBytes,
            long reclaimedSharingBytes,
            long reclaimedZeroPageBytes,
            long reclaimedFreePageReportingBytes) {
        static Reclaimed of(Exposure e) {
            return new Reclaimed(
                    e.reclaimedBytes(),
                    e.vms().stream().mapToLong(Exposure.VmReclaim::sharingBytes).sum(),
                    e.vms().stream()
                            .mapToLong(Exposure.VmReclaim::zeroPageBytes)
                            .sum(),
                    e.vms().stream()
                            .mapToLong(Exposure.VmReclaim::freePageReportingBytes)
                            .sum());
        }
    }

    /**
     * One row of {@code sim run} (docs/SIMULATOR.md): every counter of /sys/kernel/mm/ksm under the key
     * {@code memhygiene ksm status --json} gives it (docs/CLI.md), the resident pages, reclaimed memory by source
     * and the exposure figures.
     */
    record RunRow(
            double seconds,
            long pagesShared,
            long pagesSharing,
            long pagesUnshared,
            long pagesVolatile,
            long pagesScanned,
            long pagesSkipped,
            long fullScans,
            long ksmZeroPages,
            long generalProfitBytes,
            long stableNodeChains,
            long stableNodeDups,
            long residentPages,
            @JsonUnwrapped Reclaimed reclaimed,
            long crossVmMergedNonzeroPages,
            long mergedSecretPages,
            long staleSecretPages,
            long staleSecretPageSeconds,
            double ksmdCpuPercent) {}

    /** One cell of {@code sim sweep} (docs/SIMULATOR.md); {@code settings} the knobs it writes, as a decision's. */
    record SweepRow(
            String policy,
            String hygiene,
            Map<String, Object> settings,
            @JsonUnwrapped Reclaimed reclaimed,
            long crossVmMergedNonzeroPages,
            long mergedSecretPages,
            long staleSecretPageSeconds,
            double ksmdCpuPercent,
            boolean frontier) {}

    /**
     * Rows written as they come, so a long run holds none in memory: a CSV header and a line per row, or
     * a JSON array element by element.
     */
    static final class RowWriter implements Closeable {
        private final Writer file;
        private final JsonGenerator json;
        private boolean headerWritten;

        RowWriter(Path out) throws IOException {
            file = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
            if (out.toString().endsWith(".json")) {
                json = Json.mapper().createGenerator(file);
                json.writeStartArray();
            } else {
                json = null;
            }
        }

        /** A row record: as it is in JSON, its keys and values in CSV. */
        void write(Record row) throws IOException {
            if (json != null) {
                json.writeObject(row);
                return;
            }
            Map<String, Object> fields = asMap(row);
            if (!headerWritten) {
                file.write(String.join(",", fields.keySet()) + "\n");
                headerWritten = true;
            }
            List<String> cells = new ArrayList<>();
            fields.values().forEach(v -> cells.add(csvCell(v)));
            file.write(String.join(",", cells) + "\n");
        }

        /** A map (a sweep cell's KSM knobs) as "key=value key=value", the form `ksm set` takes; text with a comma quoted. */
        private static String csvCell(Object value) {
            if (value instanceof Map<?, ?> map) {
                List<String> pairs = new ArrayList<>();
                map.forEach((k, v) -> pairs.add(k + "=" + v));
                return String.join(" ", pairs);
            }
            return value instanceof String text && text.contains(",") ? "\"" + text + "\"" : String.valueOf(value);
        }

        @Override
        public void close() throws IOException {
            if (json != null) {
                json.writeEndArray();
                json.writeRaw('\n');
                json.close();
            }
            file.close();
        }
    }

    /** A row's keys and values as JSON has them, in order. */
    static Map<String, Object> asMap(Record row) {
        return Json.mapper().convertValue(row, new TypeReference<LinkedHashMap<String, Object>>() {});
    }

    static void write(Path out, List<? extends Record> rows) throws IOException {
        try (RowWriter w = new RowWriter(out)) {
            for (Record row : rows) {
                w.write(row);
            }
        }
    }

    /** The most rows one {@code sim run} writes: a simulated day at one row per 0.1 s is 864,000. */
    static final long MAX_ROWS = 1_000_000;

    /**
     * A column of the {@code sim run} table: its header, the row key it shows and the width. Every KSM
     * counter the kernel has, the resident pages, memory reclaimed and the exposure figures.
     */
    private record Column(String header, String key, int width) {}

    static final List<Column> TABLE = List.of(
            new Column("t", "seconds", 9),
            new Column("shared", "pages_shared", 9),
            new Column("sharing", "pages_sharing", 10),
            new Column("unshared", "pages_unshared", 9),
            new Column("volatile", "pages_volatile", 9),
            new Column("zero_pages", "ksm_zero_pages", 10),
            new Column("scanned", "pages_scanned", 11),
            new Column("skipped", "pages_skipped", 11),
            new Column("scans", "full_scans", 6),
            new Column("profit", "general_profit_bytes", 10),
            new Column("chains", "stable_node_chains", 6),
            new Column("dups", "stable_node_dups", 7),
            new Column("resident", "resident_pages", 10),
            new Column("reclaimed", "reclaimed_bytes", 10),
            new Column("cross_vm", "cross_vm_merged_nonzero_pages", 9),
            new Column("secret", "merged_secret_pages", 7),
            new Column("stale_sec_p*s", "stale_secret_page_seconds", 13),
            new Column("cpu%", "ksmd_cpu_percent", 6));

    static String tableHeader() {
        StringBuilder b = new StringBuilder();
        for (Column c : TABLE) {
            b.append(b.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%" + c.width() + "s", c.header()));
        }
        return b.toString();
    }

    static String tableLine(RunRow r) {
        Map<String, Object> row = asMap(r);
        StringBuilder b = new StringBuilder();
        for (Column c : TABLE) {
            Object v = row.get(c.key());
            String text = switch (c.key()) {
                case "seconds" -> format(Duration.ofMillis(Math.round(((Number) v).doubleValue() * 1000)));
                case "reclaimed_bytes", "general_profit_bytes" -> ByteSize.format(((Number) v).longValue());
                case "ksmd_cpu_percent" -> String.format(Locale.ROOT, "%.2f", ((Number) v).doubleValue());
                default -> String.valueOf(v);
            };
            b.append(b.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%" + c.width() + "s", text));
        }
        return b.toString();
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        return s >= 3600
                ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : d.toMillis() / 1000.0 + "s";
    }
}
