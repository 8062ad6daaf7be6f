package org.memhygiene.bench.host;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.controller.host.HostProc;
import org.memhygiene.controller.host.HostSampler;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.libvirt.DomainInventory;
import org.memhygiene.controller.libvirt.DomainKsmReader;
import org.memhygiene.controller.libvirt.DomainXmlParser;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.controller.libvirt.QemuProcessLocator;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A full host sample with 50 domains (libvirt's test driver) and their agents: KSM from sysfs, the
 * inventory with balloon statistics, each domain's live XML, each "QEMU" process's ksm_stat (50 real
 * processes carrying QEMU's -name argument, found through pid files) and a stats round trip to each
 * domain's agent (the real agent server code on a unix socket, in this JVM). Target: median under
 * 20 ms. Reference in the same run: the libvirt inventory alone (list, info and memory statistics of
 * the 50 domains), the floor any such sample pays.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HostSampleBenchmark {
    static final int DOMAINS = 50;

    private Path dir;
    private final List<Process> qemus = new ArrayList<>();
    private final List<ServerSocketChannel> agents = new ArrayList<>();
    private ScheduledExecutorService scheduler;
    private LibvirtHost libvirt;
    private AgentLinks links;
    private DomainInventory inventory;
    private HostSampler sampler;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("host-sample-bench");
        scheduler = Executors.newSingleThreadScheduledExecutor();
        Path pids = Files.createDirectories(dir.resolve("pids"));
        TestDriverHost host = new TestDriverHost();
        for (int i = 0; i < DOMAINS; i++) {
            String name = "vm" + i;
            Path socket = dir.resolve(name + ".sock");
            agents.add(TestAgent.serve(UnixDomainSocketAddress.of(socket), 1000, "bench", scheduler));
            Process qemu = new ProcessBuilder(
                            "sh",
                            "-c",
                            "sleep 3600; :",
                            "qemu-system-x86_64",
                            "-name",
                            "guest=" + name + ",debug-threads=on")
                    .start();
            qemus.add(qemu);
            Files.writeString(pids.resolve(name + ".pid"), Long.toString(qemu.pid()));
            host.domain(name, true, Optional.of(socket), false);
        }
        String uri = host.write(dir.resolve("host.xml"));
        long page = LinuxMemory.pageSizeBytes();
        libvirt = new LibvirtHost(uri);
        links = new AgentLinks(Duration.ofSeconds(2), Duration.ZERO, 64, Clock.systemUTC());
        inventory = new DomainInventory(libvirt, new DomainXmlParser());
        sampler = new HostSampler(
                Optional.of(new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), page)),
                Optional.of(new HostProc(ProcessKsmReader.DEFAULT_ROOT, LinuxThread.clockTicksPerSecond())),
                inventory,
                Optional.of(new DomainKsmReader(
                        new QemuProcessLocator(pids, ProcessKsmReader.DEFAULT_ROOT),
                        new ProcessKsmReader(ProcessKsmReader.DEFAULT_ROOT))),
                links,
                uri,
                page,
                Clock.systemUTC());
        HostSnapshot first = sampler.sample();
        long ok = first.vms().stream()
                .filter(vm -> vm.agent().status() == AgentStatus.OK && vm.ksm().isPresent())
                .count();
        if (ok != DOMAINS) {
            throw new IllegalStateException(
                    "only " + ok + " of " + DOMAINS + " domains have an agent and ksm_stat: " + first);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        links.close();
        libvirt.close();
        for (ServerSocketChannel agent : agents) {
            agent.close();
        }
        // sh runs sleep as its child: end the child too, or it outlives the benchmark by an hour.
        qemus.forEach(qemu -> {
            qemu.descendants().forEach(ProcessHandle::destroyForcibly);
            qemu.destroyForcibly();
        });
        scheduler.shutdownNow();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    @Benchmark
    public HostSnapshot fullSample() {
        return sampler.sample();
    }

    @Benchmark
    public List<DomainSample> referenceInventoryOnly() {
        return inventory.sample();
    }
}
