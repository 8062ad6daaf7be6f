package org.memhygiene.controller.cli;

import java.nio.file.Path;
import java.util.function.Function;
import org.memhygiene.core.host.HostBackend;
import picocli.CommandLine;

/**
 * The host's commands: ksm, vms, vm, agent, node-memory, run, status, policy, posture, probe. The command module
 * (cli/, {@code org.memhygiene.cli.MemhygieneCli}) puts them together with the simulator's and the
 * dashboard's into {@code memhygiene}; the controller itself has no simulator.
 */
public final class HostCommands {
    private HostCommands() {}

    /**
     * Adds them to {@code root}, in the order {@code memhygiene --help} lists them.
     *
     * @param scenarios opens a scenario file as the host of {@code run --scenario FILE}; an
     *                  IllegalArgumentException from it is a usage error naming the scenario's field
     */
    public static CommandLine addTo(CommandLine root, Function<Path, HostBackend> scenarios) {
        root.addSubcommand(KsmCommand.class);
        root.addSubcommand(VmsCommand.class);
        root.addSubcommand(VmCommand.class);
        root.addSubcommand(AgentLinkCommand.class);
        root.addSubcommand(NodeMemoryCommand.class);
        root.addSubcommand(new DaemonRunCommand(scenarios));
        root.addSubcommand(DaemonStatusCommand.class);
        root.addSubcommand(PolicyCommand.class);
        root.addSubcommand(PostureCommand.class);
        root.addSubcommand(ProbeCommand.class);
        return root;
    }
}
