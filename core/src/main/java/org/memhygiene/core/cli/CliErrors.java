package org.memhygiene.core.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * How every memhygiene command line reports failures. Exit codes: 0 success, 1 runtime error (the
 * message says what failed, no stack trace unless MEMHYGIENE_DEBUG is set), 2 usage error (the message
 * names the bad option or value, with suggestions and a pointer to --help instead of the whole help).
 */
public final class CliErrors {
    public static final int EXIT_RUNTIME_ERROR = 1;

    private CliErrors() {}

    public static CommandLine configure(CommandLine commandLine, String program) {
        commandLine.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println(program + ": " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
            err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            err.println(program + ": error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (System.getenv("MEMHYGIENE_DEBUG") != null) {
                e.printStackTrace(err);
            }
            err.flush();
            return EXIT_RUNTIME_ERROR;
        });
        return commandLine;
    }
}
