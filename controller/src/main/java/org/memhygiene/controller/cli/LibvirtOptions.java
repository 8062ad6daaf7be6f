package org.memhygiene.controller.cli;

import java.time.Duration;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.core.cli.DurationConverter;
import picocli.CommandLine.Option;

/** The options every VM command shares: which libvirt, and how long a guest's agent may take. */
final class LibvirtOptions {
    @Option(names = "--uri", paramLabel = "URI",
            description = "libvirt connection URI (default: ${DEFAULT-VALUE}; test:///default and"
                    + " qemu+ssh://HOST/system work too).")
    String uri = LibvirtHost.DEFAULT_URI;

    @Option(names = "--agent-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long one VM's agent may take to answer (default: ${DEFAULT-VALUE}).")
    Duration agentTimeout = Duration.ofSeconds(2);

    LinuxHost open() {
        return LinuxHost.of(uri, agentTimeout, Duration.ZERO);
    }
}
