package org.memhygiene.controller.host;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.controller.libvirt.DomainInventory;
import org.memhygiene.controller.libvirt.DomainKsmReader;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.SourceState;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSample;

/**
 * Takes one {@link HostSnapshot}, source by source: KSM from sysfs, the host's memory and ksmd from /proc,
 * every domain from libvirt with its live XML and its QEMU process's ksm_stat, and every agent (in parallel,
 * each bounded by the link's read timeout). A source that fails is marked down ({@link SourceTracker}) and
 * its last figures are kept, stale; the others are served as usual. While libvirt is down the domains it
 * last listed keep their rows, and their QEMU processes and agents (found through those rows) are still
 * read. A domain that vanishes mid-sample is left out by the inventory; a VM whose parts cannot be read
 * keeps its row with those parts empty.
 */
public final class HostSampler {
    /** How long a domain's parsed XML is reused while its state stays the same. */
    static final Duration XML_REFRESH = Duration.ofSeconds(30);

    private record CachedXml(DomainState state, Instant readAt, Optional<DomainXml> xml) {
    }

    /** What libvirt says in one sample: the domains and their configuration. */
    private record Domains(List<DomainSample> domains, Map<String, Optional<DomainXml>> configs) {
    }

    /** The host's /proc figures of one sample. */
    private record ProcFigures(HostMemory memory, OptionalLong ksmdCpuMillis) {
    }

    private final Map<String, CachedXml> xmlCache = new java.util.concurrent.ConcurrentHashMap<>();
    private final Optional<KsmSysfs> ksm;
    private final Optional<HostProc> hostProc;
    private final DomainInventory inventory;
    private final Optional<DomainKsmReader> domainKsm;
    private final AgentLinks agents;
    private final String uri;
    private final long pageSizeBytes;
    private final Clock clock;
    private final SourceTracker sources;

    /**
     * @param ksm       this machine's KSM; empty when libvirt's host is another machine (qemu+ssh://...)
     * @param hostProc  this machine's memory and ksmd CPU time; empty for a remote libvirt host
     * @param domainKsm finds each domain's QEMU process on this machine; empty for a remote host or a
     *                  driver without QEMU processes (test:///)
     */
    public HostSampler(Optional<KsmSysfs> ksm, Optional<HostProc> hostProc, DomainInventory inventory,
            Optional<DomainKsmReader> domainKsm, AgentLinks agents, String uri, long pageSizeBytes, Clock clock) {
        this.ksm = ksm;
        this.hostProc = hostProc;
        this.inventory = inventory;
        this.domainKsm = domainKsm;
        this.agents = agents;
        this.uri = uri;
        this.pageSizeBytes = pageSizeBytes;
        this.clock = clock;
        this.sources = new SourceTracker(clock);
    }

    /**
     * The domain's parsed XML, read again when the domain changed state, after {@link #XML_REFRESH}, or
     * after its agent link failed. Reading and parsing 50 live XMLs every second was most of the daemon's
     * CPU (docs/PERFORMANCE.md), and the parts we use change only with the domain's lifecycle.
     */
    private Optional<DomainXml> config(DomainSample domain) {
        CachedXml cached = xmlCache.get(domain.uuid());
        Instant now = clock.instant();
        if (cached == null || cached.state() != domain.state() || now.isAfter(cached.readAt().plus(XML_REFRESH))) {
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
        Optional<KsmSample> host = ksm.filter(KsmSysfs::available)
                .flatMap(sysfs -> sources.read(SourceState.KSM, sysfs::sample));
        Optional<ProcFigures> proc = hostProc.flatMap(p -> sources.read(SourceState.HOST_MEMORY,
                () -> new ProcFigures(p.memory(), p.ksmdCpuMillis())));
        Domains listed = sources.read(SourceState.LIBVIRT, this::domains).orElse(new Domains(List.of(), Map.of()));
        Map<String, Optional<Path>> sockets = new LinkedHashMap<>();
        for (DomainSample domain : listed.domains()) {
            // Only a running domain's channel has a QEMU listening on it.
            sockets.put(domain.uuid(), domain.state().hasQemuProcess()
                    ? listed.configs().get(domain.uuid()).flatMap(DomainXml::agentChannel).flatMap(DomainXml.AgentChannel::socketPath)
                    : Optional.empty());
        }
        Map<String, AgentSample> agentSamples = agents.sampleAll(sockets);
        List<VmSnapshot> rows = new ArrayList<>(listed.domains().size());
        Set<String> agentSources = new HashSet<>();
        for (DomainSample domain : listed.domains()) {
            boolean running = domain.state().hasQemuProcess();
            Optional<DomainKsm> processKsm = running ? domainKsm.flatMap(reader -> reader.read(domain.name())) : Optional.empty();
            Optional<DomainXml> config = listed.configs().get(domain.uuid());
            AgentSample agent = !running && config.flatMap(DomainXml::agentChannel).isPresent()
                    ? AgentSample.without(AgentStatus.VM_NOT_RUNNING, "the domain is " + domain.state().label(), clock.instant())
                    : agentSamples.get(domain.uuid());
            rows.add(new VmSnapshot(domain, config, processKsm, agent));
            if (agent.status() != AgentStatus.OK && agent.status() != AgentStatus.NO_CHANNEL) {
                xmlCache.remove(domain.uuid()); // read the XML again next time: the channel's path may have changed
            }
            if (running && agent.status() != AgentStatus.NO_CHANNEL) {
                String source = SourceState.agent(domain.name());
                agentSources.add(source);
                sources.record(source, agent.status() == AgentStatus.OK, agent.status().name().toLowerCase(Locale.ROOT)
                        + ": " + agent.problem());
            }
        }
        sources.retainAgents(agentSources);
        return new HostSnapshot(start, uri, pageSizeBytes, host, proc.map(ProcFigures::memory),
                proc.map(ProcFigures::ksmdCpuMillis).orElse(OptionalLong.empty()), rows,
                Duration.ofNanos(System.nanoTime() - startNanos), sources.states());
    }
}
