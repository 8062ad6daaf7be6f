package org.memhygiene.cli;

import org.memhygiene.controller.cli.HostCommands;
import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.cli.LogLines;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.simulator.cli.SimCommand;
import org.memhygiene.ui.DashboardMain;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code memhygiene}, as bin/memhygiene runs it: the host's commands (controller), {@code sim} and
 * {@code run --scenario} (simulator), and {@code dashboard} (ui), in one command line. This module only
 * assembles them; each lives with its module. Exit codes: 0 success, 1 runtime error (the message says what
 * failed), 2 usage error (bad option or value; the message names it).
 */
@Command(
        name = "memhygiene",
        mixinStandardHelpOptions = true,
        versionProvider = MemhygieneCli.Version.class,
        description = "Reclaim freed guest memory on KVM hosts through KSM, and see what it exposes.")
public final class MemhygieneCli {
    public static void main(String[] args) {
        LogLines.install();
        DashboardMain dashboard = new DashboardMain();
        int code = commandLine(dashboard).execute(args);
        if (code == 0 && dashboard.windowOpen()) {
            return; // the FX thread runs the window; the JVM exits when it closes
        }
        System.exit(code);
    }

    /** The configured command line; tests call it with their own writers. */
    public static CommandLine commandLine() {
        return commandLine(new DashboardMain());
    }

    private static CommandLine commandLine(DashboardMain dashboard) {
        CommandLine root = new CommandLine(new MemhygieneCli());
        HostCommands.addTo(root, SimulatedHost::load);
        root.addSubcommand(SimCommand.class);
        root.addSubcommand(dashboard);
        root.addSubcommand(CommandLine.HelpCommand.class);
        return CliErrors.configure(root, "memhygiene");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = MemhygieneCli.class.getPackage().getImplementationVersion();
            return new String[] {"memhygiene " + (version != null ? version : "(development build)")};
        }
    }
}
