package org.memhygiene.controller.host;

import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.ksm.KsmChange;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.memhygiene.controller.agentlink.AgentLink;
import org.memhygiene.core.agent.AgentLinkException;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.controller.ksm.KsmAccessException;
import org.memhygiene.controller.ksm.KsmSysfs;
import org.memhygiene.controller.ksm.ProcessKsmReader;
import org.memhygiene.controller.libvirt.DomainInventory;
import org.memhygiene.controller.libvirt.DomainKsmReader;
import org.memhygiene.controller.libvirt.DomainXmlParser;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.controller.libvirt.QemuProcessLocator;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;

/**
 * The real host: KSM through /sys/kernel/mm/ksm, VMs through libvirt, guests through their agents.
 * KSM and /proc are read only when libvirt's host is this machine ({@link LibvirtHost#isLocal}).
 */
public final class LinuxHost implements HostBackend {
    private final LibvirtHost libvirt;
    private final DomainInventory inventory;
    private final AgentLinks agents;
    private final HostSampler sampler;
    private final Optional<KsmSysfs> ksm;

    /**
     * @param uri          the libvirt connection URI
     * @param agentTimeout how long one VM's agent may take to answer a sample
     * @param agentRefresh how long an agent's sample is reused before the agent is asked again
     * @param sysfsRoot    KSM's sysfs directory ({@link KsmSysfs#DEFAULT_ROOT})
     * @param procRoot     the proc file system ({@link ProcessKsmReader#DEFAULT_ROOT})
     */
    public LinuxHost(String uri, Duration agentTimeout, Duration agentRefresh, Path sysfsRoot, Path procRoot, Clock clock) {
        this.libvirt = new LibvirtHost(uri);
        this.inventory = new DomainInventory(libvirt, new DomainXmlParser());
        long page = LinuxMemory.pageSizeBytes();
        boolean local = LibvirtHost.isLocal(uri);
        this.ksm = local ? Optional.of(new KsmSysfs(sysfsRoot, clock, page)) : Optional.empty();
        Optional<HostProc> hostProc = local ? Optional.of(new HostProc(procRoot, LinuxThread.clockTicksPerSecond()))
                : Optional.empty();
        // QEMU processes are this machine's only for a local qemu:/// URI with a known pid directory.
        Optional<DomainKsmReader> domainKsm = QemuProcessLocator.pidDirFor(uri, System.getenv())
                .map(pids -> new DomainKsmReader(new QemuProcessLocator(pids, procRoot), new ProcessKsmReader(procRoot)));
        this.agents = new AgentLinks(agentTimeout, agentRefresh, 32, clock);
        this.sampler = new HostSampler(ksm, hostProc, inventory, domainKsm, agents, uri, page, clock);
    }

    /** This machine's KSM and /proc; agents asked on every snapshot when {@code agentRefresh} is zero. */
    public static LinuxHost of(String uri, Duration agentTimeout, Duration agentRefresh) {
        return new LinuxHost(uri, agentTimeout, agentRefresh, KsmSysfs.DEFAULT_ROOT, ProcessKsmReader.DEFAULT_ROOT,
                Clock.systemUTC());
    }

    public LibvirtHost libvirt() {
        return libvirt;
    }

    public DomainInventory inventory() {
        return inventory;
    }

    public AgentLinks agents() {
        return agents;
    }

    public HostSampler sampler() {
        return sampler;
    }

    @Override
    public HostSnapshot snapshot() {
        return sampler.sample();
    }

    @Override
    public List<KsmChange> applyKsm(KsmSettings settings) {
        return ksm.orElseThrow(() -> new KsmAccessException("KSM of " + libvirt.uri()
                + " is another machine's; set it there, or through libvirt (memhygiene node-memory set)")).apply(settings);
    }

    @Override
    public ScrubReport scrub(String vmUuid, long maxBytes, Duration timeout) throws AgentLinkException {
        DomainSample domain = inventory.sample().stream().filter(d -> d.uuid().equalsIgnoreCase(vmUuid)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no domain with UUID " + vmUuid + " on " + libvirt.uri()));
        return agentLink(domain).scrub(maxBytes, timeout);
    }

    /**
     * The agent link of {@code domain}.
     *
     * @throws IllegalArgumentException saying what is missing: the channel, or a running QEMU behind it
     */
    public AgentLink agentLink(DomainSample domain) {
        Path socket = inventory.xml(domain.name()).flatMap(DomainXml::agentChannel)
                .orElseThrow(() -> new IllegalArgumentException(domain.name() + " has no " + DomainXml.AGENT_CHANNEL
                        + " channel; add one (vm-configs/README.md)"))
                .socketPath().filter(path -> domain.state().hasQemuProcess())
                .orElseThrow(() -> new IllegalArgumentException(domain.name() + " is " + domain.state().label()
                        + ": its agent channel has no socket until it runs"));
        return agents.link(domain.uuid(), socket);
    }

    /** True for a local libvirt URI ({@link LibvirtHost#isLocal}): qemu:///system, test:///default. */
    @Override
    public boolean isThisMachine() {
        return LibvirtHost.isLocal(libvirt.uri());
    }

    @Override
    public String describe() {
        return "libvirt " + libvirt.uri();
    }

    public String uri() {
        return libvirt.uri();
    }

    @Override
    public void close() {
        agents.close();
        libvirt.close();
    }
}
