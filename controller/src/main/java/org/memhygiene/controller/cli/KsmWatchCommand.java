package org.memhygiene.controller.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmRates;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "watch",
        description = "A row of KSM figures and rates every interval.",
        mixinStandardHelpOptions = true)
final class KsmWatchCommand implements Runnable {
    @ParentCommand
    KsmCommand ksm;

    @Mixin
    JsonOutput output;

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

    @Override
    public void run() {
        if (count != null && count <= 0) {
            throw new ParameterException(
                    output.commandLine(), "--count must be a positive number of rows, was " + count);
        }
        if (restoreOnExit && assignments.isEmpty()) {
            throw new ParameterException(
                    output.commandLine(), "--restore-on-exit needs --set KEY=VALUE: nothing would change");
        }
        KsmSysfs sysfs = ksm.sysfs();
        PrintWriter out = output.out();
        KsmRestorePoint restorePoint = null;
        Thread hook = null;
        if (!assignments.isEmpty()) {
            KsmSettings settings = KsmCommand.settings(output, assignments);
            if (restoreOnExit) {
                restorePoint = KsmRestorePoint.before(sysfs, settings);
                hook = restorePoint.restoreOnShutdown();
            }
            for (KsmChange change : sysfs.apply(settings)) {
                if (!output.json()) {
                    out.println("set " + change.knob().fileName() + "=" + change.after() + " (was " + change.before()
                            + ")");
                }
            }
        }
        try {
            watch(sysfs, out);
        } finally {
            if (restorePoint != null) {
                Runtime.getRuntime().removeShutdownHook(hook);
                for (KsmChange change : restorePoint.restore()) {
                    if (!output.json()) {
                        out.println("restored " + change.knob().fileName() + "=" + change.after());
                    }
                }
                out.flush();
            }
        }
    }

    private void watch(KsmSysfs sysfs, PrintWriter out) {
        String format = "%-8s %3s %8s %8s %10s %10s %10s %9s %10s %10s %10s %9s %11s%n";
        if (!output.json()) {
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
            if (output.json()) {
                output.printLine(
                        new KsmCommand.WatchJson(sample.takenAt(), sample.pageSizeBytes(), s, sample.savings(), rates));
            } else {
                out.printf(
                        Locale.ROOT,
                        format,
                        KsmCommand.TIME.format(sample.takenAt()),
                        KsmCommand.number(s.run()),
                        KsmCommand.number(s.pagesToScan()),
                        KsmCommand.number(s.sleepMillisecs()),
                        KsmCommand.number(s.pagesShared()),
                        KsmCommand.number(s.pagesSharing()),
                        KsmCommand.number(s.pagesUnshared()),
                        KsmCommand.number(s.pagesVolatile()),
                        KsmCommand.number(s.ksmZeroPages()),
                        KsmCommand.bytes(sample.savings().savedTotalBytes()),
                        rates == null ? CommandOutput.MISSING : KsmCommand.rate(rates.pagesMergedPerSecond()),
                        rates == null ? CommandOutput.MISSING : KsmCommand.rate(rates.fullScansPerMinute()),
                        rates == null ? CommandOutput.MISSING : KsmCommand.rate(rates.pagesScannedPerSecond()));
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
