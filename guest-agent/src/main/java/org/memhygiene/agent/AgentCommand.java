package org.memhygiene.agent;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.cli.CommandOutput;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The guest agent's command line, {@code bin/memhygiene-agent} ({@link AgentMain} is its entry point):
 * with no subcommand it serves the host, as {@link AgentMain#main} does without picocli.
 */
@Command(
        name = "memhygiene-agent",
        mixinStandardHelpOptions = true,
        description = "Zeroes freed guest memory so the host's KSM can merge it with the zero page.",
        subcommands = {
            AgentScrubCommand.class,
            AgentPostureCommand.class,
            AgentCanaryCommand.class,
            CommandLine.HelpCommand.class
        })
public final class AgentCommand implements Callable<Integer> {
    @Option(
            names = AgentMain.LISTEN,
            paramLabel = "ADDRESS",
            description = "Serve on unix:PATH, tcp:127.0.0.1:PORT or a character device path instead of the"
                    + " config file's listen (default /dev/virtio-ports/org.memhygiene.agent.0).")
    String listen;

    @CommandLine.Mixin
    AgentCommand.ConfigFile configFile;

    @CommandLine.Mixin
    CommandOutput output;

    /** With no subcommand: serve the host until killed. */
    @Override
    public Integer call() throws Exception {
        AgentService service;
        try {
            service = AgentService.prepare(listen, configFile.file);
        } catch (AgentService.UsageException e) {
            throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
        }
        service.serve();
        return 0;
    }

    /** --config FILE, else $MEMHYGIENE_AGENT_CONFIG, else the defaults. */
    static final class ConfigFile {
        @Option(
                names = AgentMain.CONFIG,
                paramLabel = "FILE",
                description = "Read settings from FILE (default: $" + AgentConfig.ENVIRONMENT_VARIABLE
                        + ", set by memhygiene-agent.service to /etc/memhygiene/agent.yaml; else built-in defaults).")
        Path file;

        AgentConfig load(CommandOutput output) {
            try {
                return AgentService.config(file);
            } catch (AgentService.UsageException e) {
                throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
            }
        }
    }

    /** Parses {@code args} and runs the command they name; the exit code. */
    static int run(String[] args) {
        return commandLine().execute(args);
    }

    public static CommandLine commandLine() {
        return CliErrors.configure(new CommandLine(new AgentCommand()), "memhygiene-agent");
    }
}
