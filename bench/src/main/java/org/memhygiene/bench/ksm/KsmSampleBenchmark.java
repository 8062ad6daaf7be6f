package org.memhygiene.bench.ksm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.linux.LinuxMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One full KSM sample (every file under /sys/kernel/mm/ksm, parsed) against the reference of only
 * reading the same files' bytes, in the same run. Target: the sample under 1 ms median.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class KsmSampleBenchmark {
    private final KsmSysfs sysfs = new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), LinuxMemory.pageSizeBytes());

    @Benchmark
    public KsmSample fullSample() {
        return sysfs.sample();
    }

    /** Reference: list the directory and read every file's bytes, parsing nothing. */
    @Benchmark
    public void referenceRawRead(Blackhole blackhole) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(KsmSysfs.DEFAULT_ROOT)) {
            for (Path file : files) {
                blackhole.consume(Files.readAllBytes(file));
            }
        }
    }
}
