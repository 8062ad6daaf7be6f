package org.memhygiene.controller.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.controller.host.HostProc;
import org.memhygiene.controller.host.HostSampler;
import org.memhygiene.controller.ksm.KsmSysfs;
import org.memhygiene.controller.ksm.ProcessKsmReader;
import org.memhygiene.controller.libvirt.DomainInventory;
import org.memhygiene.controller.libvirt.DomainKsmReader;
import org.memhygiene.controller.libvirt.DomainXmlParser;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.controller.libvirt.QemuProcessLocator;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;
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

    /** Everything a sample needs, closed together. */
    record Host(LibvirtHost libvirt, DomainInventory inventory, AgentLinks agents, HostSampler sampler)
            implements AutoCloseable {
        @Override
        public void close() {
            agents.close();
            libvirt.close();
        }
    }

    Host open() {
        LibvirtHost libvirt = new LibvirtHost(uri);
        DomainInventory inventory = new DomainInventory(libvirt, new DomainXmlParser());
        Path proc = ProcessKsmReader.DEFAULT_ROOT;
        // QEMU processes and KSM are this machine's only when libvirt's host is this machine.
        Optional<DomainKsmReader> domainKsm = QemuProcessLocator.pidDirFor(uri, System.getenv())
                .map(pids -> new DomainKsmReader(new QemuProcessLocator(pids, proc), new ProcessKsmReader(proc)));
        long page = LinuxMemory.pageSizeBytes();
        boolean local = LibvirtHost.isLocal(uri);
        Optional<KsmSysfs> ksm = local ? Optional.of(new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), page)) : Optional.empty();
        Optional<HostProc> hostProc = local ? Optional.of(new HostProc(proc, LinuxThread.clockTicksPerSecond())) : Optional.empty();
        AgentLinks agents = new AgentLinks(agentTimeout, 32, Clock.systemUTC());
        HostSampler sampler = new HostSampler(ksm, hostProc, inventory, domainKsm, agents, uri, page, Clock.systemUTC());
        return new Host(libvirt, inventory, agents, sampler);
    }
}
