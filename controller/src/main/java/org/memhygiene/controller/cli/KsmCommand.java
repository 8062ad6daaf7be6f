package org.memhygiene.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmRates;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmSavings;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code memhygiene ksm ...}: see and tune the host's KSM through sysfs. */
@Command(
        name = "ksm",
        description = "See and tune the host's KSM (/sys/kernel/mm/ksm).",
        mixinStandardHelpOptions = true,
        subcommands = {KsmCommand.Status.class, KsmCommand.Watch.class, KsmCommand.Set.class, KsmCommand.Top.class})
public final class KsmCommand {
    @Option(
            names = "--sysfs-root",
            scope = ScopeType.INHERIT,
            paramLabel = "DIR",
            description = "KSM's sysfs directory (default: ${DEFAULT-VALUE}); for tests and containers.")
    Path sysfsRoot = KsmSysfs.DEFAULT_ROOT;

    @Option(
            names = "--proc-root",
            scope = ScopeType.INHERIT,
            paramLabel = "DIR",
            description = "The proc file system (default: ${DEFAULT-VALUE}); for tests and containers.")
    Path procRoot = ProcessKsmReader.DEFAULT_ROOT;

    KsmSysfs sysfs() {
        return new KsmSysfs(sysfsRoot, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
    }

    private static final ObjectWriter JSON_LINE = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    /** The documented JSON of {@code ksm status --json} (see docs/CLI.md). */
    record StatusJson(Instant takenAt, String sysfsRoot, long pageSizeBytes, KsmStats stats, KsmSavings savings) {}

    /** One line of {@code ksm watch --json}; rates are null on the first line. */
    record WatchJson(Instant takenAt, long pageSizeBytes, KsmStats stats, KsmSavings savings, KsmRates rates) {}

    record SetJson(boolean dryRun, List<KsmChange> changes) {}

    record TopJson(long pageSizeBytes, List<ProcessKsmStat> processes) {}

    @Command(
            name = "status",
            description = "Every KSM knob and counter, and what merging saves.",
            mixinStandardHelpOptions = true)
    static final class Status implements Runnable {
        @ParentCommand
        KsmCommand ksm;

        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON (stable keys, documented in docs/CLI.md).")
        boolean json;

        @Override
        public void run() {
            KsmSysfs sysfs = ksm.sysfs();
            KsmSample sample = sysfs.sample();
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(toJson(
                        Json.mapper().writer(),
                        new StatusJson(
                                sample.takenAt(),
                                sysfs.root().toString(),
                                sample.pageSizeBytes(),
                                sample.stats(),
                                sample.savings())));
            } else {
                out.print(human(sysfs.root(), sample));
            }
            out.flush();
        }

        static String human(Path root, KsmSample sample) {
            KsmStats s = sample.stats();
            long page = sample.pageSizeBytes();
            StringBuilder text = new StringBuilder();
            text.append("KSM at ")
                    .append(root)
                    .append(", page size ")
                    .append(ByteSize.format(page))
                    .append(": ")
                    .append(runState(s.run()))
                    .append("\n\n");
            TextTable knobs = new TextTable("KNOB", "VALUE>");
            knobs.row("run", number(s.run()));
            knobs.row("pages_to_scan", number(s.pagesToScan()));
            knobs.row("sleep_millisecs", number(s.sleepMillisecs()));
            knobs.row("use_zero_pages", number(s.useZeroPages()));
            knobs.row("merge_across_nodes", number(s.mergeAcrossNodes()));
            knobs.row("max_page_sharing", number(s.maxPageSharing()));
            knobs.row("smart_scan", number(s.smartScan()));
            knobs.row("stable_node_chains_prune_millisecs", number(s.stableNodeChainsPruneMillisecs()));
            knobs.row("advisor_mode", s.advisorMode().orElse("absent"));
            knobs.row("advisor_max_cpu (%)", number(s.advisorMaxCpuPercent()));
            knobs.row("advisor_min_pages_to_scan", number(s.advisorMinPagesToScan()));
            knobs.row("advisor_max_pages_to_scan", number(s.advisorMaxPagesToScan()));
            knobs.row("advisor_target_scan_time (s)", number(s.advisorTargetScanTimeSeconds()));
            text.append(knobs).append('\n');

            TextTable counters = new TextTable("COUNTER", "PAGES>", "MEMORY>");
            counters.row("pages_shared", number(s.pagesShared()), memory(s.pagesShared(), page));
            counters.row("pages_sharing", number(s.pagesSharing()), memory(s.pagesSharing(), page));
            counters.row("pages_unshared", number(s.pagesUnshared()), memory(s.pagesUnshared(), page));
            counters.row("pages_volatile", number(s.pagesVolatile()), memory(s.pagesVolatile(), page));
            counters.row("ksm_zero_pages", number(s.ksmZeroPages()), memory(s.ksmZeroPages(), page));
            counters.row("pages_scanned", number(s.pagesScanned()), "");
            counters.row("pages_skipped", number(s.pagesSkipped()), "");
            counters.row("full_scans", number(s.fullScans()), "");
            counters.row("stable_node_chains", number(s.stableNodeChains()), "");
            counters.row("stable_node_dups", number(s.stableNodeDups()), "");
            text.append(counters).append('\n');

            KsmSavings v = sample.savings();
            TextTable savings = new TextTable("SAVINGS", "VALUE>");
            savings.row("saved by sharing (pages_sharing)", bytes(v.savedBySharingBytes()));
            savings.row("saved by zero pages (ksm_zero_pages)", bytes(v.savedByZeroPagesBytes()));
            savings.row("saved in total", bytes(v.savedTotalBytes()));
            savings.row(
                    "general_profit" + (v.generalProfitEstimated() ? " (estimated)" : ""),
                    bytes(v.generalProfitBytes()));
            savings.row("sharing ratio (sharing/shared)", ratio(v.sharingRatio()));
            savings.row("unshared ratio (unshared/sharing)", ratio(v.unsharedRatio()));
            text.append(savings);

            if (!s.unknownFiles().isEmpty()) {
                text.append('\n');
                s.unknownFiles().entrySet().stream()
                        .sorted(Map.Entry.comparingByKey())
                        .forEach(e -> text.append("other file ")
                                .append(e.getKey())
                                .append(": ")
                                .append(e.getValue())
                                .append('\n'));
            }
            if (!s.unreadableFiles().isEmpty()) {
                text.append('\n');
                s.unreadableFiles().entrySet().stream()
                        .sorted(Map.Entry.comparingByKey())
                        .forEach(e -> text.append("warning: ")
                                .append(root.resolve(e.getKey()))
                                .append(": ")
                                .append(e.getValue())
                                .append('\n'));
            }
            return text.toString();
        }
    }

    @Command(
            name = "watch",
            description = "A row of KSM figures and rates every interval.",
            mixinStandardHelpOptions = true)
    static final class Watch implements Runnable {
        @ParentCommand
        KsmCommand ksm;

        @Spec
        CommandSpec spec;

        @Option(
                names = "--interval",
                defaultValue = "1s",
                converter = DurationConverter.class,
                description = "Time between rows, e.g. 500ms, 2s, 1m (default: ${DEFAULT-VALUE}).")
        Duration interval;

        @Option(names = "--count", paramLabel = "N", description = "Stop after N rows (default: until interrupted).")
        Integer count;

        @Option(
                names = "--set",
                paramLabel = "KEY=VALUE",
                description = "Set KSM knobs for the watch, e.g. --set run=1 --set pages_to_scan=1000.")
        List<String> assignments = new ArrayList<>();

        @Option(
                names = "--restore-on-exit",
                description = "Put back the knobs that --set changed when the watch ends (also on Ctrl-C).")
        boolean restoreOnExit;

        @Option(names = "--json", description = "One JSON object per line (documented in docs/CLI.md).")
        boolean json;

        @Override
        public void run() {
            if (count != null && count <= 0) {
                throw new ParameterException(
                        spec.commandLine(), "--count must be a positive number of rows, was " + count);
            }
            if (restoreOnExit && assignments.isEmpty()) {
                throw new ParameterException(
                        spec.commandLine(), "--restore-on-exit needs --set KEY=VALUE: nothing would change");
            }
            KsmSysfs sysfs = ksm.sysfs();
            PrintWriter out = spec.commandLine().getOut();
            KsmRestorePoint restorePoint = null;
            Thread hook = null;
            if (!assignments.isEmpty()) {
                KsmSettings settings = settings(spec, assignments);
                if (restoreOnExit) {
                    restorePoint = KsmRestorePoint.before(sysfs, settings);
                    hook = restorePoint.restoreOnShutdown();
                }
                for (KsmChange change : sysfs.apply(settings)) {
                    if (!json) {
                        out.println("set " + change.knob().fileName() + "=" + change.after() + " (was "
                                + change.before() + ")");
                    }
                }
            }
            try {
                watch(sysfs, out);
            } finally {
                if (restorePoint != null) {
                    Runtime.getRuntime().removeShutdownHook(hook);
                    for (KsmChange change : restorePoint.restore()) {
                        if (!json) {
                            out.println("restored " + change.knob().fileName() + "=" + change.after());
                        }
                    }
                    out.flush();
                }
            }
        }

        private void watch(KsmSysfs sysfs, PrintWriter out) {
            String format = "%-8s %3s %8s %8s %10s %10s %10s %9s %10s %10s %10s %9s %11s%n";
            if (!json) {
                out.printf(
                        Locale.ROOT,
                        format,
                        "TIME",
                        "RUN",
                        "TO_SCAN",
                        "SLEEP_MS",
                        "SHARED",
                        "SHARING",
                        "UNSHARED",
                        "VOLATILE",
                        "ZERO_PAGES",
                        "SAVED",
                        "MERGED/S",
                        "SCANS/MIN",
                        "SCANNED/S");
            }
            KsmSample previous = null;
            for (int row = 0; count == null || row < count; row++) {
                if (row > 0) {
                    sleep(interval);
                }
                KsmSample sample = sysfs.sample();
                KsmRates rates = previous == null ? null : KsmRates.between(previous, sample);
                KsmStats s = sample.stats();
                if (json) {
                    out.println(toJson(
                            JSON_LINE,
                            new WatchJson(sample.takenAt(), sample.pageSizeBytes(), s, sample.savings(), rates)));
                } else {
                    out.printf(
                            Locale.ROOT,
                            format,
                            TIME.format(sample.takenAt()),
                            number(s.run()),
                            number(s.pagesToScan()),
                            number(s.sleepMillisecs()),
                            number(s.pagesShared()),
                            number(s.pagesSharing()),
                            number(s.pagesUnshared()),
                            number(s.pagesVolatile()),
                            number(s.ksmZeroPages()),
                            bytes(sample.savings().savedTotalBytes()),
                            rates == null ? "-" : rate(rates.pagesMergedPerSecond()),
                            rates == null ? "-" : rate(rates.fullScansPerMinute()),
                            rates == null ? "-" : rate(rates.pagesScannedPerSecond()));
                }
                out.flush();
                previous = sample;
            }
        }

        private static void sleep(Duration interval) {
            try {
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    @Command(
            name = "set",
            description = {
                "Set KSM knobs, all or none: every value is checked before the first write, and if the kernel"
                        + " refuses one, those already written are put back.",
                "run=0 stops ksmd (merged pages stay merged); run=1 merges; run=2 stops ksmd and unmerges every"
                        + " page (needs free memory for all the copies).",
                "merge_across_nodes and max_page_sharing change only while no pages are shared: combine them"
                        + " with run=2, then set run=1."
            },
            mixinStandardHelpOptions = true)
    static final class Set implements Runnable {
        @ParentCommand
        KsmCommand ksm;

        @Spec
        CommandSpec spec;

        @Parameters(
                arity = "1..*",
                paramLabel = "KEY=VALUE",
                description = "Knobs to set, e.g. run=1 pages_to_scan=1000.")
        List<String> assignments;

        @Option(names = "--dry-run", description = "Check the values and show what would change; write nothing.")
        boolean dryRun;

        @Option(names = "--json", description = "Print the changes as JSON.")
        boolean json;

        @Override
        public void run() {
            KsmSettings settings = settings(spec, assignments);
            KsmSysfs sysfs = ksm.sysfs();
            List<KsmChange> changes = new ArrayList<>();
            if (dryRun) {
                var current = sysfs.currentValues(
                        settings.inWriteOrder().stream().map(Map.Entry::getKey).toList());
                settings.inWriteOrder()
                        .forEach(e -> changes.add(
                                new KsmChange(e.getKey(), current.getOrDefault(e.getKey(), "absent"), e.getValue())));
            } else {
                changes.addAll(sysfs.apply(settings));
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(toJson(Json.mapper().writer(), new SetJson(dryRun, changes)));
            } else {
                TextTable table = new TextTable("KNOB", "BEFORE>", dryRun ? "WOULD BE>" : "NOW>");
                changes.forEach(c -> table.row(c.knob().fileName(), c.before(), c.after()));
                out.print(table);
                if (dryRun) {
                    out.println("(dry run: nothing written)");
                }
            }
            out.flush();
        }
    }

    @Command(
            name = "top",
            description = "Processes by pages KSM saves them (merged + zero pages).",
            mixinStandardHelpOptions = true)
    static final class Top implements Runnable {
        @ParentCommand
        KsmCommand ksm;

        @Spec
        CommandSpec spec;

        @Option(
                names = "--limit",
                paramLabel = "N",
                defaultValue = "20",
                description = "Rows to show (default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--json", description = "Print JSON (documented in docs/CLI.md).")
        boolean json;

        @Override
        public void run() {
            if (limit <= 0) {
                throw new ParameterException(
                        spec.commandLine(), "--limit must be a positive number of rows, was " + limit);
            }
            long page = LinuxMemory.pageSizeBytes();
            List<ProcessKsmStat> top = new ProcessKsmReader(ksm.procRoot).top(limit);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(toJson(Json.mapper().writer(), new TopJson(page, top)));
            } else if (top.isEmpty()) {
                out.println("No process has pages tracked by KSM (none made memory MADV_MERGEABLE,"
                        + " or ksmd has not scanned it yet).");
            } else {
                TextTable table = new TextTable(
                        "PID>",
                        "NAME",
                        "MERGING>",
                        "ZERO>",
                        "SAVED>",
                        "RMAP_ITEMS>",
                        "PROFIT>",
                        "MERGE_ANY",
                        "MERGEABLE");
                for (ProcessKsmStat p : top) {
                    table.row(
                            p.pid(),
                            p.name(),
                            number(p.mergingPages()),
                            number(p.zeroPages()),
                            ByteSize.format(p.savedPages() * page),
                            number(p.rmapItems()),
                            bytes(p.processProfitBytes()),
                            yesNo(p.mergeAny()),
                            yesNo(p.mergeable()));
                }
                out.print(table);
            }
            out.flush();
        }
    }

    /** Invalid KEY=VALUE pairs are usage errors (exit 2), reported before anything is written. */
    static KsmSettings settings(CommandSpec spec, List<String> assignments) {
        try {
            return KsmSettings.parse(assignments);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e, null, String.join(" ", assignments));
        }
    }

    static String runState(OptionalLong run) {
        if (run.isEmpty()) {
            return "state unknown";
        }
        return switch ((int) run.getAsLong()) {
            case 0 -> "ksmd stopped (run=0)";
            case 1 -> "ksmd merging (run=1)";
            case 2 -> "ksmd stopped, pages unmerged (run=2)";
            default -> "run=" + run.getAsLong();
        };
    }

    static String number(OptionalLong value) {
        return value.isPresent() ? Long.toString(value.getAsLong()) : "absent";
    }

    static String memory(OptionalLong pages, long pageSizeBytes) {
        return pages.isPresent() ? ByteSize.format(pages.getAsLong() * pageSizeBytes) : "";
    }

    static String bytes(OptionalLong bytes) {
        return bytes.isPresent() ? ByteSize.format(bytes.getAsLong()) : "absent";
    }

    static String ratio(OptionalDouble ratio) {
        return ratio.isPresent() ? String.format(Locale.ROOT, "%.2f", ratio.getAsDouble()) : "-";
    }

    static String rate(OptionalDouble rate) {
        return rate.isPresent() ? String.format(Locale.ROOT, "%.1f", rate.getAsDouble()) : "absent";
    }

    static String yesNo(Optional<Boolean> value) {
        return value.map(v -> v ? "yes" : "no").orElse("absent");
    }

    static String toJson(ObjectWriter writer, Object value) {
        try {
            return writer.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
