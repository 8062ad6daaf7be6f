package org.memhygiene.controller.cli;

import picocli.CommandLine.Command;

@Command(
        name = "vm",
        mixinStandardHelpOptions = true,
        description = "One VM: its details, or a scrub of its free memory.",
        subcommands = {VmShowCommand.class, VmScrubCommand.class})
final class VmCommand {}
