package org.memhygiene.controller.host;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import org.memhygiene.controller.agentlink.AgentLink;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.controller.guestmemory.GuestMemoryMonitor;
import org.memhygiene.controller.libvirt.DomainInventory;
import org.memhygiene.controller.libvirt.DomainKsmReader;
import org.memhygiene.controller.libvirt.DomainXmlParser;
import org.memhygiene.controller.libvirt.LibvirtAccessException;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.controller.libvirt.QemuProcessLocator;
import org.memhygiene.controller.libvirt.ReconnectPolicy;
import org.memhygiene.controller.probe.DedupProbe;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentLinkException;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.HostNotAvailableException;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.HostUnreachableException;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;

/**
 * The real host: KSM through /sys/kernel/mm/ksm, VMs through libvirt, guests through their agents. KSM,
 * /proc and /sys are read only when libvirt's host is this machine ({@link LibvirtHost#isLocal}). libvirt's
 * errors become the backend's contract errors: a connection that cannot be made is
 * {@link HostUnreachableException}.
 */
public final class LinuxHost implements HostBackend {
    private final LibvirtHost libvirt;
    private final DomainInventory inventory;
    private final AgentLinks agents;
    private final HostSampler sampler;
    private final Optional<KsmSysfs> ksm;
    private final Optional<Path> procRoot;
    private final Path sysRoot;
    private final Optional<GuestMemoryMonitor> guestMemory;
    private final Optional<DomainKsmReader> domainKsm;
    private final Clock clock;

    /**
     * @param uri          the libvirt connection URI
     * @param agentTimeout how long one VM's agent may take to answer a sample
     * @param agentRefresh how long an agent's sample is reused before the agent is asked again
     * @param sysfsRoot    KSM's sysfs directory ({@link KsmSysfs#DEFAULT_ROOT})
     * @param procRoot     the proc file system ({@link ProcessKsmReader#DEFAULT_ROOT})
     * @param sysRoot      the sys file system, for the host facts posture reads ({@code /sys})
     */
    public LinuxHost(
            String uri,
            Duration agentTimeout,
            Duration agentRefresh,
            Path sysfsRoot,
            Path procRoot,
            Path sysRoot,
            Clock clock) {
        this(uri, agentTimeout, agentRefresh, sysfsRoot, procRoot, sysRoot, clock, GuestMemorySettings.DAEMON);
    }

    /**
     * @param guestMemory how the VMs' guest RAM is measured, and where their QEMU processes' pid files are
     *                    (docs/RECLAIM.md); measured only when libvirt's host is this machine and the QEMU
     *                    processes can be found (a qemu:/// URI, or {@code qemuPidDir})
     */
    public LinuxHost(
            String uri,
            Duration agentTimeout,
            Duration agentRefresh,
            Path sysfsRoot,
            Path procRoot,
            Path sysRoot,
            Clock clock,
            GuestMemorySettings guestMemory) {
        this(uri, agentTimeout, agentRefresh, sysfsRoot, procRoot, sysRoot, clock, guestMemory, true);
    }

    private LinuxHost(
            String uri,
            Duration agentTimeout,
            Duration agentRefresh,
            Path sysfsRoot,
            Path procRoot,
            Path sysRoot,
            Clock clock,
            GuestMemorySettings guestMemory,
            boolean logSourceChanges) {
        // One connection attempt per call: the daemon's loop tries again every interval, and waiting out a
        // libvirtd restart here would stall the KSM and host memory samples with it.
        this.clock = clock;
        this.libvirt = new LibvirtHost(uri, ReconnectPolicy.ONCE, d -> {});
        this.inventory = new DomainInventory(libvirt, new DomainXmlParser());
        long page = LinuxMemory.pageSizeBytes();
        boolean local = LibvirtHost.isLocal(uri);
        this.ksm = local ? Optional.of(new KsmSysfs(sysfsRoot, clock, page)) : Optional.empty();
        this.procRoot = local ? Optional.of(procRoot) : Optional.empty();
        this.sysRoot = sysRoot;
        Optional<HostProc> hostProc = this.procRoot.map(proc -> new HostProc(proc, LinuxThread.clockTicksPerSecond()));
        // QEMU processes are this machine's only for a local qemu:/// URI with a known pid directory, or
        // where the settings name the pid directory (qemu:///embed, a test-driver host standing in for one).
        Optional<Path> pidDir = local
                ? guestMemory.qemuPidDir().or(() -> QemuProcessLocator.pidDirFor(uri, System.getenv()))
                : Optional.empty();
        this.domainKsm = pidDir.map(
                pids -> new DomainKsmReader(new QemuProcessLocator(pids, procRoot), new ProcessKsmReader(procRoot)));
        this.guestMemory = this.domainKsm.isPresent()
                ? guestMemory
                        .method()
                        .map(method -> GuestMemoryMonitor.open(
                                procRoot,
                                sysRoot.resolve("kernel/mm/transparent_hugepage"),
                                page,
                                guestMemory.budget(),
                                method,
                                clock))
                : Optional.empty();
        this.agents = new AgentLinks(agentTimeout, agentRefresh, 32, clock);
        this.sampler = new HostSampler(
                ksm, hostProc, inventory, this.domainKsm, agents, uri, page, clock, this.guestMemory, logSourceChanges);
    }

    /** This machine's KSM, /proc and /sys; agents asked on every snapshot when {@code agentRefresh} is zero. */
    public static LinuxHost of(String uri, Duration agentTimeout, Duration agentRefresh) {
        return of(uri, agentTimeout, agentRefresh, GuestMemorySettings.DAEMON);
    }

    /** This machine's KSM, /proc and /sys, with guest RAM measured as {@code guestMemory} says. */
    public static LinuxHost of(
            String uri, Duration agentTimeout, Duration agentRefresh, GuestMemorySettings guestMemory) {
        return onThisMachine(uri, agentTimeout, agentRefresh, guestMemory, true);
    }

    /**
     * This machine's KSM, /proc and /sys for a command that samples once: agents asked on every snapshot,
     * every VM's guest RAM measured in one whole pass, and nothing logged when a source fails (the
     * command says what failed itself; the log is the daemon's journal).
     */
    public static LinuxHost forCommand(String uri, Duration agentTimeout, Optional<Path> qemuPidDir) {
        return onThisMachine(
                uri, agentTimeout, Duration.ZERO, GuestMemorySettings.ONE_SHOT.withQemuPidDir(qemuPidDir), false);
    }

    private static LinuxHost onThisMachine(
            String uri,
            Duration agentTimeout,
            Duration agentRefresh,
            GuestMemorySettings guestMemory,
            boolean logSourceChanges) {
        return new LinuxHost(
                uri,
                agentTimeout,
                agentRefresh,
                KsmSysfs.DEFAULT_ROOT,
                ProcessKsmReader.DEFAULT_ROOT,
                Path.of("/sys"),
                Clock.systemUTC(),
                guestMemory,
                logSourceChanges);
    }

    /** The libvirt connection, for tests that change the test driver's domains under the host. */
    public LibvirtHost libvirt() {
        return libvirt;
    }

    @Override
    public HostSnapshot snapshot() {
        return sampler.sample();
    }

    @Override
    public List<KsmChange> applyKsm(KsmSettings settings) {
        return ksm.orElseThrow(() -> new HostNotAvailableException("KSM of " + libvirt.uri()
                        + " is another machine's; set it there, or through libvirt (memhygiene node-memory set)"))
                .apply(settings);
    }

    @Override
    public ScrubReport scrub(String vm, long maxBytes, Duration timeout) {
        DomainSample domain = domain(vm);
        try {
            ScrubReport report = agentLink(domain).scrub(maxBytes, timeout);
            // What the scrub zeroed comes back as KSM merges it: measure this VM first for a while.
            sampler.refreshSoon(domain.name(), "a scrub was asked");
            return report;
        } catch (AgentLinkException e) {
            throw new HostUnreachableException(domain.name() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public AgentHello ping(String vm) {
        DomainSample domain = domain(vm);
        try {
            return agentLink(domain).ping();
        } catch (AgentLinkException e) {
            throw new HostUnreachableException(domain.name() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public DedupProbeReport probeDedup(DedupProbeRequest request) {
        List<DomainSample> domains = libvirt(inventory::sample);
        List<DomainSample> chosen = new ArrayList<>();
        if (request.vms().isEmpty()) {
            domains.stream().filter(d -> d.state().hasQemuProcess()).forEach(chosen::add);
        } else {
            for (String vm : request.vms()) {
                chosen.add(domain(vm, domains));
            }
        }
        List<DedupProbe.Target> targets = new ArrayList<>();
        for (DomainSample domain : chosen) {
            Optional<AgentLink> link;
            String noAgent = "";
            try {
                link = Optional.of(agentLink(domain));
            } catch (HostNotAvailableException | HostUnreachableException e) {
                link = Optional.empty();
                noAgent = e.getMessage();
            }
            OptionalInt pid =
                    domainKsm.map(reader -> reader.locate(domain.name())).orElse(OptionalInt.empty());
            targets.add(new DedupProbe.Target(domain.name(), domain.uuid(), link, noAgent, pid));
        }
        DedupProbeReport report =
                new DedupProbe(clock, ksm, procRoot, LinuxMemory.pageSizeBytes()).run(request, targets);
        chosen.forEach(d -> sampler.refreshSoon(d.name(), "a deduplication probe ran"));
        return report;
    }

    @Override
    public Optional<HostFacts> facts() {
        return procRoot.map(proc -> HostFacts.read(proc, sysRoot));
    }

    @Override
    public List<String> enableBalloonStats(Duration period) {
        int seconds = (int) Math.min(Integer.MAX_VALUE, period.toSeconds());
        List<String> changed = new ArrayList<>();
        for (DomainSample domain : libvirt(inventory::sample)) {
            if (libvirt(() -> inventory.enableBalloonStatsPeriod(domain.name(), seconds))) {
                changed.add(domain.name());
            }
        }
        return changed;
    }

    /** The domain named {@code vm} (or with that UUID). */
    private DomainSample domain(String vm) {
        return domain(vm, libvirt(inventory::sample));
    }

    private DomainSample domain(String vm, List<DomainSample> domains) {
        return domains.stream()
                .filter(d -> d.name().equals(vm) || d.uuid().equalsIgnoreCase(vm))
                .findFirst()
                .orElseThrow(() -> new NoSuchVmException(
                        vm,
                        libvirt.uri(),
                        domains.stream().map(DomainSample::name).toList()));
    }

    /** The agent link of {@code domain}, or what is missing: the channel, or a running QEMU behind it. */
    private AgentLink agentLink(DomainSample domain) {
        Path socket = libvirt(() -> inventory.xml(domain.name()))
                .flatMap(DomainXml::agentChannel)
                .orElseThrow(() -> new HostNotAvailableException(domain.name() + " has no " + DomainXml.AGENT_CHANNEL
                        + " channel; add one (vm-configs/README.md)"))
                .socketPath()
                .filter(path -> domain.state().hasQemuProcess())
                .orElseThrow(() -> new HostNotAvailableException(domain.name() + " is "
                        + domain.state().label() + ": its agent channel has no socket until it runs"));
        return agents.link(domain.uuid(), socket);
    }

    /** A libvirt call; libvirt's failure is the backend's {@link HostUnreachableException}. */
    private <T> T libvirt(Supplier<T> call) {
        try {
            return call.get();
        } catch (LibvirtAccessException e) {
            throw new HostUnreachableException(e.getMessage(), e);
        }
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
        guestMemory.ifPresent(GuestMemoryMonitor::close);
        domainKsm.ifPresent(DomainKsmReader::close);
    }
}
