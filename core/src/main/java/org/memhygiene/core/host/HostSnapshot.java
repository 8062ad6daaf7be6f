package org.memhygiene.core.host;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.ksm.KsmSample;

/**
 * One sample of the whole host: KSM as sysfs shows it, and every VM libvirt knows. Each source is sampled
 * on its own ({@code sources}): the figures of one that failed are its last ones, stale.
 *
 * @param sampledAt     when the sample started
 * @param uri           the libvirt connection URI
 * @param pageSizeBytes the host's page size, for the page counts of {@code ksm} and each VM's ksm_stat
 * @param ksm           the host's KSM figures; empty when this kernel has no /sys/kernel/mm/ksm, or
 *                      libvirt's host is another machine
 * @param memory        the host's /proc/meminfo and memory pressure; empty for a remote libvirt host
 * @param ksmdCpuMillis CPU time ksmd has used since boot; empty without ksmd or for a remote host
 * @param vms           one row per domain, in libvirt's order
 * @param took          how long the sample took
 * @param sources       each source's state after this sample, in a fixed order: KSM, host memory, the VMs,
 *                      then each agent; a source this host does not have (KSM of a remote host) is not listed
 */
public record HostSnapshot(
        Instant sampledAt,
        String uri,
        long pageSizeBytes,
        Optional<KsmSample> ksm,
        Optional<HostMemory> memory,
        OptionalLong ksmdCpuMillis,
        List<VmSnapshot> vms,
        Duration took,
        List<SourceState> sources) {

    public HostSnapshot {
        vms = List.copyOf(vms);
        sources = List.copyOf(sources);
    }

    /** The source called {@code name}, if this host has it. */
    public Optional<SourceState> source(String name) {
        return sources.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** The sources that are down, agents included. */
    public List<SourceState> sourcesDown() {
        return sources.stream().filter(s -> !s.up()).toList();
    }
}
