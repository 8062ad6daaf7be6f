package org.memhygiene.bench.host;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.memhygiene.agent.posture.PostureProbe;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.posture.Finding;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Posture scoring of one host snapshot, as the daemon does on every sample: 50 test-driver domains
 * (every other one with {@code <nosharepages/>}), this machine's KSM, swap and CPU vulnerability files,
 * and for each VM the guest findings this machine's own agent probe reports (about ten), as if each
 * guest's agent had sent them. Each call scores a new snapshot one second later than the last, so the
 * host files are read once per 60 calls, as at 1 Hz. Reference in the same run: Jackson writing the
 * same snapshot as GET /api/v1/snapshot does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"})
public class PostureScoreBenchmark {
    private HostSnapshot snapshot;
    private PostureScorer scorer;
    private long seconds;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path dir = Files.createTempDirectory("posture-bench");
        TestDriverHost driver = new TestDriverHost();
        for (int i = 0; i < HostSampleBenchmark.DOMAINS; i++) {
            driver.domain("vm" + i, true, Optional.empty(), i % 2 == 1);
        }
        HostSnapshot sampled;
        try (LinuxHost host =
                LinuxHost.of(driver.write(dir.resolve("host.xml")), Duration.ofSeconds(1), Duration.ZERO)) {
            sampled = host.snapshot();
            scorer = PostureScorer.of(host);
        }
        List<Finding> guest = PostureProbe.ofThisMachine().probe();
        List<VmSnapshot> vms = sampled.vms().stream()
                .map(vm -> new VmSnapshot(
                        vm.domain(),
                        vm.config(),
                        vm.ksm(),
                        new AgentSample(
                                sampled.sampledAt(),
                                AgentStatus.OK,
                                "",
                                Optional.empty(),
                                Optional.empty(),
                                guest,
                                List.of())))
                .toList();
        snapshot = new HostSnapshot(
                sampled.sampledAt(),
                sampled.uri(),
                sampled.pageSizeBytes(),
                sampled.ksm(),
                sampled.memory(),
                sampled.ksmdCpuMillis(),
                vms,
                sampled.took(),
                sampled.sources());
        if (scorer.score(snapshot).vms().size() != HostSampleBenchmark.DOMAINS) {
            throw new IllegalStateException("not every domain was scored");
        }
    }

    @Benchmark
    public HostPosture scoreOneSample() {
        seconds++;
        HostSnapshot s = snapshot;
        return scorer.score(new HostSnapshot(
                s.sampledAt().plusSeconds(seconds),
                s.uri(),
                s.pageSizeBytes(),
                s.ksm(),
                s.memory(),
                s.ksmdCpuMillis(),
                s.vms(),
                s.took(),
                s.sources()));
    }

    @Benchmark
    public String referenceSnapshotJson() throws JsonProcessingException {
        return Json.mapper().writeValueAsString(snapshot);
    }
}
