package org.memhygiene.controller.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The host CLI, {@code bin/memhygiene}. Exit codes: 0 success, 1 runtime error (the message says what
 * failed), 2 usage error (bad option or value; the message names it).
 */
@Command(name = "memhygiene",
        mixinStandardHelpOptions = true,
        versionProvider = MemhygieneCli.Version.class,
        description = "Reclaim freed guest memory on KVM hosts through KSM, and see what it exposes.",
        subcommands = {KsmCommand.class, CommandLine.HelpCommand.class})
public final class MemhygieneCli {
    public static final int EXIT_RUNTIME_ERROR = 1;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call it with their own writers. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new MemhygieneCli());
        // A usage error gets its message and a pointer to --help, not the whole help text.
        commandLine.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println("memhygiene: " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
            err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            err.println("memhygiene: error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (System.getenv("MEMHYGIENE_DEBUG") != null) {
                e.printStackTrace(err);
            }
            err.flush();
            return EXIT_RUNTIME_ERROR;
        });
        return commandLine;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = MemhygieneCli.class.getPackage().getImplementationVersion();
            return new String[] {"memhygiene " + (version != null ? version : "(development build)")};
        }
    }
}
