package org.memhygiene.controller.cli;

import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.cli.LogLines;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code memhygiene} with the host's commands only, for the controller's tests: in the test's JVM
 * ({@link #commandLine()}) or as a process on the test class path ({@link #main}). The shipped command
 * (cli/'s MemhygieneCli) adds the simulator's and the dashboard's; here {@code run --scenario} is refused.
 */
@Command(name = "memhygiene", mixinStandardHelpOptions = true)
public final class HostCli {
    public static void main(String[] args) {
        LogLines.install();
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine root = HostCommands.addTo(new CommandLine(new HostCli()), file -> {
            throw new IllegalArgumentException(file + ": the controller's tests have no simulator (cli/ adds it)");
        });
        root.addSubcommand(CommandLine.HelpCommand.class);
        return CliErrors.configure(root, "memhygiene");
    }
}
