package org.memhygiene.controller.cli;

import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.simulator.cli.SimCommand;
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
        subcommands = {KsmCommand.class, VmCommands.Vms.class, VmCommands.Vm.class, VmCommands.Agent.class,
                NodeMemoryCommand.class, DaemonCommands.Run.class, DaemonCommands.Status.class, PolicyCommand.class, SimCommand.class,
                PostureCommand.class,
                CommandLine.HelpCommand.class},
        // The dashboard lives in the ui module, which depends on this one: bin/memhygiene dispatches it.
        footer = {"", "Also: memhygiene dashboard [--connect URL] [--scenario FILE] [--snapshot DIR]",
                "  the JavaFX dashboard (docs/DASHBOARD.md, memhygiene dashboard --help)."})
public final class MemhygieneCli {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call it with their own writers. */
    public static CommandLine commandLine() {
        return CliErrors.configure(new CommandLine(new MemhygieneCli()), "memhygiene");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = MemhygieneCli.class.getPackage().getImplementationVersion();
            return new String[] {"memhygiene " + (version != null ? version : "(development build)")};
        }
    }
}
