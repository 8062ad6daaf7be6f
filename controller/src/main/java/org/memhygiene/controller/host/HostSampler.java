package org.memhygiene.controller.host;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.controller.guestmemory.GuestMemoryMonitor;
import org.memhygiene.controller.guestmemory.GuestMemoryTarget;
import org.memhygiene.controller.libvirt.DomainInventory;
import org.memhygiene.controller.libvirt.DomainKsmReader;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.SourceState;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmSysfs;

/**
 * Takes one {@link HostSnapshot}, source by source: KSM from sysfs, the host's memory and ksmd from /proc,
 * every domain from libvirt with its live XML and its QEMU process's ksm_stat, every agent (in parallel,
 * each bounded by the link's read timeout), and then, within its budget, the guest RAM of the running VMs
 * page by page ({@link GuestMemoryMonitor}; a VM whose agent's scrub counters moved, or that was asked to
 * scrub through {@link #refreshSoon}, is measured first). A source that fails is marked down ({@link SourceTracker}) and
 * its last figures are kept, stale; the others are served as usual. While libvirt is down the domains it
 * last listed keep their rows, and their QEMU processes and agents (found through those rows) are still
 * read. A domain that vanishes mid-sample is left out by the inventory; a VM whose parts cannot be read
 * keeps its row with those parts empty.
 */
public final class HostSampler {
    /**
     * How long a domain's parsed XML (and its QEMU pid) is reused while its state stays the same: an edit
     * of a running domain's configuration (posture metadata, balloon) shows within this; a start, stop or
     * restart at once. 30 s cost 12 % of the sampling thread's CPU with 50 domains (docs/PERFORMANCE.md).
     */
    static final Duration XML_REFRESH = Duration.ofMinutes(2);

    private record CachedXml(DomainState state, Instant readAt, Optional<DomainXml> xml) {}

    /**
     * A domain's QEMU pid as last looked up, reused like the XML while the domain's state stays and the
     * process lives; {@code exited}: libvirt still says the domain runs, but its process is gone.
     */
    private record CachedPid(DomainState state, Instant foundAt, OptionalInt pid, boolean exited) {}

    /** An agent's scrub counters as last seen, to notice a scrub. */
    private record ScrubsSeen(long scrubsRun, long bytesZeroed) {
        boolean same(long runs, long bytes) {
            return scrubsRun == runs && bytesZeroed == bytes;
        }
    }

    /** What libvirt says in one sample: the domains and their configuration. */
    private record Domains(List<DomainSample> domains, Map<String, Optional<DomainXml>> configs) {}

    /** The host's /proc figures of one sample. */
    private record ProcFigures(HostMemory memory, OptionalLong ksmdCpuMillis) {}

    private final Map<String, CachedXml> xmlCache = new ConcurrentHashMap<>();
    private final Map<String, CachedPid> pidCache = new HashMap<>();
    private final Map<String, ScrubsSeen> scrubsSeen = new HashMap<>();
    private final Optional<KsmSysfs> ksm;
    private final Optional<HostProc> hostProc;
    private final DomainInventory inventory;
    private final Optional<DomainKsmReader> domainKsm;
    private final AgentLinks agents;
    private final String uri;
    private final long pageSizeBytes;
    private final Clock clock;
    private final SourceTracker sources;
    private final Optional<GuestMemoryMonitor> guestMemory;

    /** A sampler that does not measure guest RAM. */
    public HostSampler(
            Optional<KsmSysfs> ksm,
            Optional<HostProc> hostProc,
            DomainInventory inventory,
            Optional<DomainKsmReader> domainKsm,
            AgentLinks agents,
            String uri,
            long pageSizeBytes,
            Clock clock) {
        this(ksm, hostProc, inventory, domainKsm, agents, uri, pageSizeBytes, clock, Optional.empty(), true);
    }

    /**
     * @param ksm       this machine's KSM; empty when libvirt's host is another machine (qemu+ssh://...)
     * @param hostProc  this machine's memory and ksmd CPU time; empty for a remote libvirt host
     * @param domainKsm   finds each domain's QEMU process on this machine; empty for a remote host or a
     *                    driver without QEMU processes (test:///)
     * @param guestMemory measures the running VMs' guest RAM (the QEMU processes {@code domainKsm} finds);
     *                    its owner closes it
     * @param logSourceChanges whether a source going down or coming back is logged (the daemon's journal)
     */
    public HostSampler(
            Optional<KsmSysfs> ksm,
            Optional<HostProc> hostProc,
            DomainInventory inventory,
            Optional<DomainKsmReader> domainKsm,
            AgentLinks agents,
            String uri,
            long pageSizeBytes,
            Clock clock,
            Optional<GuestMemoryMonitor> guestMemory,
            boolean logSourceChanges) {
        this.ksm = ksm;
        this.hostProc = hostProc;
        this.inventory = inventory;
        this.domainKsm = domainKsm;
        this.agents = agents;
        this.uri = uri;
        this.pageSizeBytes = pageSizeBytes;
        this.clock = clock;
        this.sources = new SourceTracker(clock, logSourceChanges);
        this.guestMemory = guestMemory;
    }

    /**
     * Asks for {@code vmName}'s guest RAM to be measured before the others' (a scrub was asked for it).
     * Thread-safe: the API's and the policy's threads ask while the loop samples.
     */
    public void refreshSoon(String vmName, String why) {
        guestMemory.ifPresent(monitor -> monitor.refreshSoon(vmName, why));
    }

    /**
     * The pid of the running domain's QEMU process, looked up again when the domain changed state, after
     * {@link #XML_REFRESH}, or when its ksm_stat found the process gone; a pid file and a command line (or
     * a stat of /proc/PID) per VM per sample would be work for nothing.
     */
    private OptionalInt qemuPid(DomainSample domain) {
        if (domainKsm.isEmpty()) {
            return OptionalInt.empty();
        }
        CachedPid cached = pidCache.get(domain.uuid());
        Instant now = clock.instant();
        if (cached == null
                || cached.state() != domain.state()
                || now.isAfter(cached.foundAt().plus(XML_REFRESH))) {
            OptionalInt found = domainKsm.get().locate(domain.name());
            boolean exited =
                    found.isEmpty() && cached != null && cached.pid().isPresent() && cached.state() == domain.state();
            // A QEMU process gone while libvirt still says the domain runs keeps its pid: its guest memory
            // then says the process exited, rather than the VM losing its figure without a word.
            if (cached != null && cached.pid().isPresent() && !exited && !found.equals(cached.pid())) {
                domainKsm.get().forget(cached.pid().getAsInt());
            }
            cached = new CachedPid(domain.state(), now, exited ? cached.pid() : found, exited);
            pidCache.put(domain.uuid(), cached);
        }
        return cached.pid();
    }

    /** Asks for a pass of a VM whose agent's scrub counters moved since the last sample. */
    private void noticeScrub(DomainSample domain, AgentSample agent) {
        if (agent.stats().isEmpty()) {
            return;
        }
        long runs = agent.stats().get().scrub().scrubsRun();
        long bytes = agent.stats().get().scrub().totalBytesZeroed();
        ScrubsSeen before = scrubsSeen.get(domain.uuid());
        if (before == null || !before.same(runs, bytes)) {
            scrubsSeen.put(domain.uuid(), new ScrubsSeen(runs, bytes));
            if (before != null) {
                refreshSoon(domain.name(), "its agent scrubbed");
            }
        }
    }

    /**
     * The domain's parsed XML, read again when the domain changed state, after {@link #XML_REFRESH}, or
     * after its agent link failed. Reading and parsing 50 live XMLs every second was most of the daemon's
     * CPU (docs/PERFORMANCE.md), and the parts we use change only with the domain's lifecycle.
     */
    private Optional<DomainXml> config(DomainSample domain) {
        CachedXml cached = xmlCache.get(domain.uuid());
        Instant now = clock.instant();
        if (cached == null
                || cached.state() != domain.state()
                || now.isAfter(cached.readAt().plus(XML_REFRESH))) {
            cached = new CachedXml(domain.state(), now, inventory.xml(domain.name()));
            xmlCache.put(domain.uuid(), cached);
        }
        return cached.xml();
    }

    private Domains domains() {
        List<DomainSample> domains = inventory.sample();
        Map<String, Optional<DomainXml>> configs = new LinkedHashMap<>();
        for (DomainSample domain : domains) {
            configs.put(domain.uuid(), config(domain));
        }
        xmlCache.keySet().retainAll(configs.keySet());
        return new Domains(domains, configs);
    }

    public synchronized HostSnapshot sample() {
        Instant start = clock.instant();
        long startNanos = System.nanoTime();
        // A kernel without KSM has no KSM source, as a remote host has none: nothing to be down.
        Optional<KsmSample> host =
                ksm.filter(KsmSysfs::available).flatMap(sysfs -> sources.read(SourceState.KSM, sysfs::sample));
        Optional<ProcFigures> proc = hostProc.flatMap(
                p -> sources.read(SourceState.HOST_MEMORY, () -> new ProcFigures(p.memory(), p.ksmdCpuMillis())));
        Domains listed = sources.read(SourceState.LIBVIRT, this::domains).orElse(new Domains(List.of(), Map.of()));
        Map<String, Optional<Path>> sockets = new LinkedHashMap<>();
        for (DomainSample domain : listed.domains()) {
            // Only a running domain's channel has a QEMU listening on it.
            sockets.put(
                    domain.uuid(),
                    domain.state().hasQemuProcess()
                            ? listed.configs()
                                    .get(domain.uuid())
                                    .flatMap(DomainXml::agentChannel)
                                    .flatMap(DomainXml.AgentChannel::socketPath)
                            : Optional.empty());
        }
        Map<String, AgentSample> agentSamples = agents.sampleAll(sockets);
        List<VmSnapshot> rows = new ArrayList<>(listed.domains().size());
        List<GuestMemoryTarget> targets = new ArrayList<>();
        Set<String> agentSources = new HashSet<>();
        for (DomainSample domain : listed.domains()) {
            boolean running = domain.state().hasQemuProcess();
            OptionalInt pid = running ? qemuPid(domain) : OptionalInt.empty();
            Optional<DomainKsm> processKsm = pid.isPresent()
                    ? domainKsm.flatMap(reader -> reader.read(domain.name(), pid.getAsInt()))
                    : Optional.empty();
            if (pid.isPresent() && processKsm.isEmpty() && !domainKsm.get().running(pid.getAsInt())) {
                // Its ksm_stat did not answer because the process is gone: look the domain's QEMU up again next sample.
                pidCache.computeIfPresent(
                        domain.uuid(),
                        (uuid, c) -> c.exited() ? c : new CachedPid(c.state(), Instant.MIN, c.pid(), false));
            }
            if (pid.isPresent() && domain.maxMemoryBytes() > 0) {
                targets.add(new GuestMemoryTarget(
                        domain.name(),
                        pid.getAsInt(),
                        domain.maxMemoryBytes(),
                        domain.balloonStats().rssBytes()));
            }
            Optional<DomainXml> config = listed.configs().get(domain.uuid());
            AgentSample agent =
                    !running && config.flatMap(DomainXml::agentChannel).isPresent()
                            ? AgentSample.without(
                                    AgentStatus.VM_NOT_RUNNING,
                                    "the domain is " + domain.state().label(),
                                    clock.instant())
                            : agentSamples.get(domain.uuid());
            rows.add(new VmSnapshot(domain, config, processKsm, agent));
            noticeScrub(domain, agent);
            if (agent.status() != AgentStatus.OK && agent.status() != AgentStatus.NO_CHANNEL) {
                xmlCache.remove(domain.uuid()); // read the XML again next time: the channel's path may have changed
            }
            if (running && agent.status() != AgentStatus.NO_CHANNEL) {
                String source = SourceState.agent(domain.name());
                agentSources.add(source);
                sources.record(
                        source, agent.status() == AgentStatus.OK, agent.status().label() + ": " + agent.problem());
            }
        }
        sources.retainAgents(agentSources);
        Set<String> listedUuids = listed.configs().keySet();
        pidCache.entrySet().removeIf(e -> {
            boolean gone = !listedUuids.contains(e.getKey());
            if (gone) {
                e.getValue().pid().ifPresent(pid -> domainKsm.ifPresent(reader -> reader.forget(pid)));
            }
            return gone;
        });
        scrubsSeen.keySet().retainAll(listedUuids);
        if (guestMemory.isPresent()) {
            // Last, after libvirt and the agents: the passes take the rest of the sample's budget and no lock of
            // theirs.
            Map<String, GuestMemory> measured = guestMemory.get().sample(targets);
            rows.replaceAll(vm -> measured.containsKey(vm.domain().name())
                    ? vm.withGuestMemory(Optional.of(measured.get(vm.domain().name())))
                    : vm);
        }
        return new HostSnapshot(
                start,
                uri,
                pageSizeBytes,
                host,
                proc.map(ProcFigures::memory),
                proc.map(ProcFigures::ksmdCpuMillis).orElse(OptionalLong.empty()),
                rows,
                Duration.ofNanos(System.nanoTime() - startNanos),
                sources.states());
    }
}
