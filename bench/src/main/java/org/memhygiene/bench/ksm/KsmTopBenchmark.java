package org.memhygiene.bench.ksm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code ksm top} over every process of a host with at least {@code processes} processes (sleeping
 * children are started to reach it), against the reference of only reading each /proc/PID/ksm_stat.
 * Target: under 50 ms median over 500 processes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class KsmTopBenchmark {
    @Param("500")
    int processes;

    private final List<Process> children = new ArrayList<>();
    private final ProcessKsmReader reader = new ProcessKsmReader(ProcessKsmReader.DEFAULT_ROOT);

    @Setup(Level.Trial)
    public void startProcesses() throws IOException {
        int missing = processes - countProcesses();
        for (int i = 0; i < missing; i++) {
            children.add(new ProcessBuilder("sleep", "3600").start());
        }
        System.out.println("\nprocesses on the host: " + countProcesses());
    }

    @TearDown(Level.Trial)
    public void stopProcesses() {
        children.forEach(Process::destroyForcibly);
    }

    @Benchmark
    public ProcessKsmReader.Top top() {
        return reader.top(20);
    }

    /** Reference: read every /proc/PID/ksm_stat's bytes, parsing and sorting nothing. */
    @Benchmark
    public void referenceRawRead(Blackhole blackhole) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p))) {
            for (Path entry : entries) {
                try {
                    blackhole.consume(Files.readAllBytes(entry.resolve("ksm_stat")));
                } catch (NoSuchFileException e) {
                    // gone since listing
                } catch (IOException e) {
                    blackhole.consume(e);
                }
            }
        }
    }

    private static boolean isPid(Path entry) {
        return entry.getFileName().toString().chars().allMatch(Character::isDigit);
    }

    private static int countProcesses() throws IOException {
        int count = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p))) {
            for (Path ignored : entries) {
                count++;
            }
        }
        return count;
    }
}
