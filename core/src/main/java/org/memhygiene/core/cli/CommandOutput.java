package org.memhygiene.core.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What a command prints to, as a picocli mixin ({@code @Mixin CommandOutput output}): the command line's own
 * out and err, so the launcher, a test or the man-page generator that runs it captures them, and usage errors
 * that name the command. Commands that can print a document take {@link JsonOutput} instead.
 */
@Command // a mixin needs one picocli annotation; this one sets nothing on the command that mixes it in
public class CommandOutput {
    /** How every table and line of text shows a value that is not there (a counter the kernel lacks). */
    public static final String MISSING = "-";

    /**
     * An instant as every line of text shows it: ISO 8601 in UTC to the second, as the posture findings' evidence
     * writes it ("2026-12-07T20:21:09Z"). The JSON documents keep the full precision.
     */
    public static String instant(Instant at) {
        return at.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    public CommandSpec spec() {
        return spec;
    }

    public CommandLine commandLine() {
        return spec.commandLine();
    }

    public PrintWriter out() {
        return spec.commandLine().getOut();
    }

    public PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A usage error (exit 2, {@link CliErrors}): {@code message} names the option or value and what was expected. */
    public CommandLine.ParameterException usageError(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
