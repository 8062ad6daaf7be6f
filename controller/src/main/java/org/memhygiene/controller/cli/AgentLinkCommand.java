package org.memhygiene.controller.cli;

import picocli.CommandLine.Command;

@Command(
        name = "agent",
        mixinStandardHelpOptions = true,
        description = "Talk to a VM's guest agent.",
        subcommands = {AgentPingCommand.class})
final class AgentLinkCommand {}
