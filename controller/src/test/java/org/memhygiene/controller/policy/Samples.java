package org.memhygiene.controller.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.memhygiene.controller.host.KsmFiles;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubPolicy;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.posture.Finding;

/**
 * Hand-built host samples for policy tests: a mutable description of the host, turned into a
 * {@link HostSnapshot} by {@link #build()}; {@link #after(long)} starts the next sample that many seconds later.
 */
public final class Samples {
    static final long PAGE = LinuxMemory.pageSizeBytes();
    static final long GIB = 1L << 30;
    static final long MIB = 1L << 20;
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    long seconds;
    long memTotal = 32 * GIB;
    long memAvailable = 16 * GIB;
    long memFree = 8 * GIB;
    long buffers = GIB;
    long cached = 4 * GIB;
    /** KSM sysfs files by name; null for a host without KSM. */
    Map<String, Long> ksm = new LinkedHashMap<>(Map.of(
            "run",
            0L,
            "pages_to_scan",
            100L,
            "sleep_millisecs",
            20L,
            "use_zero_pages",
            0L,
            "pages_scanned",
            0L,
            "pages_sharing",
            0L,
            "pages_shared",
            0L,
            "ksm_zero_pages",
            0L,
            "full_scans",
            0L));

    long ksmdCpuMillis;
    List<VmSnapshot> vms = new ArrayList<>();

    Samples set(String file, long value) {
        ksm.put(file, value);
        return this;
    }

    /** Adds to a KSM counter. */
    Samples add(String file, long delta) {
        ksm.merge(file, delta, Long::sum);
        return this;
    }

    /** The next sample, {@code secondsLater} after this one, with the same host state. */
    Samples after(long secondsLater) {
        Samples next = new Samples();
        next.seconds = seconds + secondsLater;
        next.memTotal = memTotal;
        next.memAvailable = memAvailable;
        next.memFree = memFree;
        next.buffers = buffers;
        next.cached = cached;
        next.ksm = ksm == null ? null : new LinkedHashMap<>(ksm);
        next.ksmdCpuMillis = ksmdCpuMillis;
        next.vms = new ArrayList<>(vms);
        return next;
    }

    HostSnapshot build() {
        Instant at = T0.plusSeconds(seconds);
        Optional<KsmSample> sample = KsmFiles.sample(ksm, at, seconds, PAGE);
        HostMemory memory = new HostMemory(
                memTotal, memFree, OptionalLong.of(memAvailable), buffers, cached, 0, 0, OptionalDouble.empty());
        return new HostSnapshot(
                at,
                "test:///policy",
                PAGE,
                sample,
                Optional.of(memory),
                ksm == null ? OptionalLong.empty() : OptionalLong.of(ksmdCpuMillis),
                List.copyOf(vms),
                Duration.ofMillis(3),
                List.of());
    }

    /** A sample of a host {@code uri} at {@code at} with nothing in it: no KSM, no memory figures, no VMs. */
    public static HostSnapshot empty(Instant at, String uri) {
        return new HostSnapshot(
                at,
                uri,
                PAGE,
                Optional.empty(),
                Optional.empty(),
                OptionalLong.empty(),
                List.of(),
                Duration.ZERO,
                List.of());
    }

    /** A running VM with {@code memory} bytes, its QEMU RSS, and an agent whose (last) stats report
     * {@code guestAvailable}; no stats at all when it is 0. */
    static VmSnapshot vm(
            String name,
            long memory,
            OptionalLong rss,
            AgentStatus agent,
            long guestAvailable,
            Optional<PostureLevel> posture) {
        BalloonStats balloon = new BalloonStats(
                OptionalLong.of(memory),
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty(),
                rss,
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty());
        DomainSample domain = new DomainSample(name, "uuid-" + name, DomainState.RUNNING, 2, memory, memory, balloon);
        DomainXml xml = new DomainXml(
                name,
                new DomainXml.MemoryBacking(false, false, false),
                Optional.empty(),
                Optional.empty(),
                false,
                posture);
        // A failed link keeps the stats it last received (AgentSample), so a non-OK agent may still carry them.
        AgentSample sample = guestAvailable > 0
                ? new AgentSample(
                        T0,
                        agent,
                        agent == AgentStatus.OK ? "" : "stale",
                        Optional.empty(),
                        Optional.of(new AgentStats(
                                memory, guestAvailable, ScrubCounters.NONE, new ScrubPolicy(0, 0, 0, 0, 0, 0, 0, 0))),
                        List.of(),
                        List.of())
                : AgentSample.without(agent, "no agent", T0);
        return new VmSnapshot(domain, Optional.of(xml), Optional.empty(), sample);
    }

    /**
     * A running VM whose agent is OK and reports {@code scrubs} as its scrub counters, whose QEMU process's
     * ksm_stat shows {@code zeroPages} (absent: no ksm_stat), with a virtio balloon ({@code freePageReporting})
     * and these balloon statistics.
     */
    static VmSnapshot scrubbing(
            String name,
            ScrubCounters scrubs,
            OptionalLong zeroPages,
            boolean freePageReporting,
            BalloonStats balloonStats) {
        DomainSample domain =
                new DomainSample(name, "uuid-" + name, DomainState.RUNNING, 2, 8 * GIB, 8 * GIB, balloonStats);
        DomainXml xml = new DomainXml(
                name,
                new DomainXml.MemoryBacking(false, false, false),
                Optional.of(new DomainXml.Balloon("virtio", freePageReporting, OptionalInt.of(5))),
                Optional.empty(),
                false,
                Optional.of(PostureLevel.BALANCED));
        AgentSample agent = new AgentSample(
                T0,
                AgentStatus.OK,
                "",
                Optional.empty(),
                Optional.of(new AgentStats(8 * GIB, 4 * GIB, scrubs, new ScrubPolicy(0, 0, 0, 0, 0, 0, 0, 0))),
                List.of(),
                List.of());
        Optional<DomainKsm> ksm = zeroPages.isPresent()
                ? Optional.of(new DomainKsm(
                        name,
                        4242,
                        new ProcessKsmStat(
                                4242,
                                "qemu-system-x86",
                                OptionalLong.of(1000),
                                zeroPages,
                                OptionalLong.of(0),
                                OptionalLong.empty(),
                                Optional.of(false),
                                Optional.of(true))))
                : Optional.empty();
        return new VmSnapshot(domain, Optional.of(xml), ksm, agent);
    }

    /** A scrub's report, as the agent sends it, that zeroed {@code bytes}. */
    static ScrubReport zeroed(long bytes) {
        return new ScrubReport(
                ScrubReport.Outcome.COMPLETED, "", bytes, bytes, 1000, bytes / 1.0, (int) (bytes >> 20), 0);
    }

    public static VmSnapshot vm(String name, long guestAvailable) {
        return vm(
                name,
                8 * GIB,
                OptionalLong.empty(),
                AgentStatus.OK,
                guestAvailable,
                Optional.of(PostureLevel.BALANCED));
    }

    /** {@code vm} with its agent reporting {@code memAvailableBytes} as the guest's MemAvailable and these findings. */
    static VmSnapshot reporting(VmSnapshot vm, long memAvailableBytes, List<Finding> posture) {
        AgentSample a = vm.agent();
        AgentStats stats = a.stats().orElseThrow();
        return new VmSnapshot(
                vm.domain(),
                vm.config(),
                vm.ksm(),
                new AgentSample(
                        a.sampledAt(),
                        a.status(),
                        a.problem(),
                        a.hello(),
                        Optional.of(new AgentStats(
                                stats.memTotalBytes(), memAvailableBytes, stats.scrub(), stats.policy())),
                        posture,
                        a.events()));
    }
}
