package org.memhygiene.controller.cli;

import picocli.CommandLine.Command;

@Command(
        name = "probe",
        mixinStandardHelpOptions = true,
        description = "Measure the host's memory-security posture instead of assuming it from configuration.",
        subcommands = {ProbeDedupCommand.class})
final class ProbeCommand {}
