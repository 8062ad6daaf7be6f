package org.memhygiene.controller.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.HostUnreachableException;
import org.memhygiene.core.host.SourceState;
import picocli.CommandLine.Option;

/** The options every VM command shares: which libvirt, and how long a guest's agent may take. */
final class LibvirtOptions {
    @Option(
            names = "--uri",
            paramLabel = "URI",
            description = "libvirt connection URI (default: ${DEFAULT-VALUE}; test:///default and"
                    + " qemu+ssh://HOST/system work too).")
    String uri = LibvirtHost.DEFAULT_URI;

    @Option(
            names = "--agent-timeout",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "How long one VM's agent may take to answer (default: ${DEFAULT-VALUE}).")
    Duration agentTimeout = Duration.ofSeconds(2);

    @Option(
            names = "--qemu-pid-dir",
            paramLabel = "DIR",
            description = "Where libvirt keeps the QEMU processes' pid files (default: the URI's driver's,"
                    + " /run/libvirt/qemu for qemu:///system); the processes whose guest RAM is measured.")
    Path qemuPidDir;

    /**
     * The host of {@code --uri}, as every command sees it: through the backend's seam. Its one sample
     * measures every running VM's guest RAM with a whole pass, so the figures printed are exact and now.
     */
    HostBackend open() {
        return LinuxHost.forCommand(uri, agentTimeout, Optional.ofNullable(qemuPidDir));
    }

    /**
     * A snapshot of {@code host} for a command that prints it once: unlike the daemon, which serves what it
     * has, a command fails (exit 1) when KSM, the host's memory or the VMs could not be read. An agent that
     * does not answer shows in its VM's row instead.
     *
     * @throws HostUnreachableException naming the source and why it failed
     */
    static HostSnapshot sample(HostBackend host) {
        HostSnapshot snapshot = host.snapshot();
        snapshot.sourcesDown().stream()
                .filter(s -> !s.name().startsWith(SourceState.AGENT_PREFIX))
                .findFirst()
                .ifPresent(down -> {
                    throw new HostUnreachableException(down.error().orElse(down.name() + " could not be read"));
                });
        return snapshot;
    }
}
