package org.memhygiene.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.memhygiene.controller.policy.Decision;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.policy.ScrubRequest;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code memhygiene policy explain}: what the policy would decide now, and why; writes nothing. */
@Command(
        name = "policy",
        mixinStandardHelpOptions = true,
        description = "The KSM policy (docs/POLICY.md).",
        subcommands = {PolicyCommand.Explain.class})
final class PolicyCommand {

    @Command(
            name = "explain",
            mixinStandardHelpOptions = true,
            description = "Takes two samples of this host --interval apart and prints what the policy decides"
                    + " (KSM knobs, scrub requests) and why, with the figures it used. Writes nothing: the daemon's"
                    + " --dry-run view of one decision.")
    static final class Explain implements Callable<Integer> {
        @Mixin
        LibvirtOptions libvirt;

        @Mixin
        JsonOutput output;

        @Option(
                names = "--config",
                paramLabel = "FILE",
                description = "The policy file (default: built-in defaults; see controller/src/main/dist/policy.yaml).")
        Path config;

        @Option(
                names = "--interval",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description = "Time between the two samples (default: ${DEFAULT-VALUE}).")
        Duration interval = Duration.ofSeconds(2);

        @Override
        public Integer call() throws JsonProcessingException, InterruptedException {
            PolicyConfig settings;
            try {
                settings = config == null ? PolicyConfig.defaults() : PolicyConfig.load(config);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(output.commandLine(), "config " + e.getMessage());
            }
            Decision decision;
            HostSnapshot second;
            try (HostBackend host = libvirt.open()) {
                HostSnapshot first = LibvirtOptions.sample(host);
                Thread.sleep(interval.toMillis());
                second = LibvirtOptions.sample(host);
                decision = settings.policy().decide(Optional.of(first), second);
            }
            if (output.json()) {
                output.print(json(decision, second.uri()));
            } else {
                output.out().print(text(decision, second.uri()));
                output.out().flush();
            }
            return 0;
        }

        /** policy explain --json (docs/CLI.md): what the policy would do now; it never writes, so written is false. */
        record Explained(
                String mode,
                String uri,
                long intervalMillis,
                Optional<KsmSettings> ksm,
                List<ScrubRequest> scrubs,
                String reason,
                boolean written) {}

        private Explained json(Decision decision, String uri) {
            return new Explained(
                    decision.mode().label(),
                    uri,
                    interval.toMillis(),
                    decision.ksm(),
                    decision.scrubs(),
                    decision.reason(),
                    false);
        }

        private String text(Decision decision, String uri) {
            StringBuilder text = new StringBuilder();
            text.append("policy ")
                    .append(decision.mode().label())
                    .append(" on libvirt ")
                    .append(uri)
                    .append(", samples ")
                    .append(interval.toMillis())
                    .append(" ms apart\n");
            text.append("KSM:    ")
                    .append(
                            decision.ksm().isEmpty()
                                    ? "leave as is"
                                    : "write "
                                            + String.join(
                                                    " ",
                                                    decision.ksmAsMap().entrySet().stream()
                                                            .map(e -> e.getKey() + "=" + e.getValue())
                                                            .toList()))
                    .append('\n');
            text.append("scrub:  ")
                    .append(
                            decision.scrubs().isEmpty()
                                    ? "none"
                                    : String.join(
                                            ", ",
                                            decision.scrubs().stream()
                                                    .map(s -> s.vmName() + " (" + s.vmUuid() + ") up to "
                                                            + ByteSize.format(s.maxBytes()))
                                                    .toList()))
                    .append('\n');
            text.append("reason: ").append(decision.reason()).append('\n');
            text.append("(explain only: nothing was written, no guest was asked)\n");
            return text.toString();
        }
    }
}
