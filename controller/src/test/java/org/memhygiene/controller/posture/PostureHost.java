package org.memhygiene.controller.posture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.memhygiene.controller.host.KsmFiles;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.posture.Finding;

/**
 * Hand-built host snapshots and prepared /proc and /sys trees for posture tests: a mutable description
 * of the host, turned into a {@link HostSnapshot} by {@link #build()}.
 */
final class PostureHost {
    static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    static final long PAGE = LinuxMemory.pageSizeBytes();

    /** KSM sysfs files by name; null for a host without KSM. */
    Map<String, Long> ksm = new LinkedHashMap<>(Map.of(
            "run",
            1L,
            "pages_sharing",
            0L,
            "pages_shared",
            0L,
            "ksm_zero_pages",
            0L,
            "use_zero_pages",
            1L,
            "merge_across_nodes",
            1L));

    final List<VmSnapshot> vms = new ArrayList<>();
    long seconds;

    PostureHost set(String file, long value) {
        ksm.put(file, value);
        return this;
    }

    HostSnapshot build() {
        Instant at = T0.plusSeconds(seconds);
        Optional<KsmSample> sample = KsmFiles.sample(ksm, at, seconds, PAGE);
        HostMemory memory =
                new HostMemory(1L << 34, 1L << 33, OptionalLong.of(1L << 33), 0, 0, 0, 0, OptionalDouble.empty());
        return new HostSnapshot(
                at,
                "test:///posture",
                PAGE,
                sample,
                Optional.of(memory),
                OptionalLong.empty(),
                List.copyOf(vms),
                Duration.ofMillis(2),
                List.of());
    }

    /** One VM, described fluently, added by {@link #add()}. */
    final class Vm {
        final String name;
        DomainState state = DomainState.RUNNING;
        boolean configKnown = true;
        boolean noSharePages;
        boolean locked;
        boolean hugepages;
        Optional<PostureLevel> level = Optional.empty();
        AgentStatus agent = AgentStatus.OK;
        String problem = "";
        List<Finding> guest = List.of();
        OptionalLong mergingPages = OptionalLong.empty();

        Vm(String name) {
            this.name = name;
        }

        PostureHost add() {
            DomainSample domain =
                    new DomainSample(name, "uuid-" + name, state, 1, 1L << 30, 1L << 30, BalloonStats.NONE);
            Optional<DomainXml> xml = configKnown
                    ? Optional.of(new DomainXml(
                            name,
                            new DomainXml.MemoryBacking(noSharePages, locked, hugepages),
                            Optional.empty(),
                            Optional.empty(),
                            false,
                            level))
                    : Optional.empty();
            Optional<DomainKsm> ksmStat = mergingPages.isPresent()
                    ? Optional.of(new DomainKsm(
                            name,
                            4242,
                            new ProcessKsmStat(
                                    4242,
                                    "qemu-system-x86",
                                    OptionalLong.empty(),
                                    OptionalLong.of(0),
                                    mergingPages,
                                    OptionalLong.empty(),
                                    Optional.empty(),
                                    Optional.of(true))))
                    : Optional.empty();
            AgentSample sample =
                    new AgentSample(T0, agent, problem, Optional.empty(), Optional.empty(), guest, List.of());
            vms.add(new VmSnapshot(domain, xml, ksmStat, sample));
            return PostureHost.this;
        }
    }

    Vm vm(String name) {
        return new Vm(name);
    }

    /** A /proc and /sys of a test's own: no swap, one CPU vulnerability file "Not affected", one NUMA node. */
    static final class HostTree {
        final Path proc;
        final Path sys;

        HostTree(Path root) throws IOException {
            proc = root.resolve("proc");
            sys = root.resolve("sys");
            swaps("");
            put(sys, "devices/system/cpu/vulnerabilities/meltdown", "Not affected");
            put(sys, "devices/system/node/online", "0");
        }

        HostTree swaps(String lines) throws IOException {
            put(proc, "swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" + lines);
            return this;
        }

        HostTree put(Path base, String file, String text) throws IOException {
            Path path = base.resolve(file);
            Files.createDirectories(path.getParent());
            Files.writeString(path, text + "\n");
            return this;
        }

        PostureScorer scorer() {
            return new PostureScorer(() -> Optional.of(HostFacts.read(proc, sys)));
        }
    }
}
