package org.memhygiene.controller.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmRates;
import org.memhygiene.core.ksm.KsmSavings;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;

/** {@code memhygiene ksm ...}: see and tune the host's KSM through sysfs. */
@Command(
        name = "ksm",
        description = "See and tune the host's KSM (/sys/kernel/mm/ksm).",
        mixinStandardHelpOptions = true,
        subcommands = {KsmStatusCommand.class, KsmWatchCommand.class, KsmSetCommand.class, KsmTopCommand.class})
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

    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    /** The documented JSON of {@code ksm status --json} (see docs/CLI.md). */
    record StatusJson(Instant takenAt, String sysfsRoot, long pageSizeBytes, KsmStats stats, KsmSavings savings) {}

    /** One line of {@code ksm watch --json}; rates are null on the first line. */
    record WatchJson(Instant takenAt, long pageSizeBytes, KsmStats stats, KsmSavings savings, KsmRates rates) {}

    record SetJson(boolean dryRun, List<KsmChange> changes) {}

    /** {@code unreadableProcesses}: processes whose figures this user may not read (run as root for all). */
    record TopJson(long pageSizeBytes, List<ProcessKsmStat> processes, int unreadableProcesses) {}

    /** Invalid KEY=VALUE pairs are usage errors (exit 2), reported before anything is written. */
    static KsmSettings settings(CommandOutput output, List<String> assignments) {
        try {
            return KsmSettings.parse(assignments);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(output.commandLine(), e.getMessage(), e, null, String.join(" ", assignments));
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
        return value.isPresent() ? Long.toString(value.getAsLong()) : CommandOutput.MISSING;
    }

    static String memory(OptionalLong pages, long pageSizeBytes) {
        return pages.isPresent() ? ByteSize.format(pages.getAsLong() * pageSizeBytes) : "";
    }

    static String bytes(OptionalLong bytes) {
        return bytes.isPresent() ? ByteSize.format(bytes.getAsLong()) : CommandOutput.MISSING;
    }

    static String ratio(OptionalDouble ratio) {
        return ratio.isPresent() ? String.format(Locale.ROOT, "%.2f", ratio.getAsDouble()) : "-";
    }

    static String rate(OptionalDouble rate) {
        return rate.isPresent() ? String.format(Locale.ROOT, "%.1f", rate.getAsDouble()) : CommandOutput.MISSING;
    }

    static String yesNo(Optional<Boolean> value) {
        return value.map(v -> v ? "yes" : "no").orElse(CommandOutput.MISSING);
    }
}
