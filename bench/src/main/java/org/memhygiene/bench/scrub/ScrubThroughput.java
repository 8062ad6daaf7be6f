package org.memhygiene.bench.scrub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.agent.ScrubReport;

/**
 * The scrub throughput benchmark behind docs/PERFORMANCE.md ("Guest agent: scrub throughput"); run it
 * through bench/scrub-throughput.sh, which compiles the C reference first.
 *
 * <pre>
 *   ScrubThroughput throughput REFERENCE_BINARY [GIB [ROUNDS]]
 * </pre>
 *
 * throughput: alternates the C reference (mmap, one write per page, munmap, in a fresh process) with the
 * Java scrubber (both fault methods, rate cap off) over the same size, ROUNDS times after one warm-up
 * round of each, and prints every pass, the medians in GiB/s and the ratios. Not JMH: one pass is
 * hundreds of milliseconds of page faults, and what matters is the kernel's work, not JIT warm-up.
 * The agent's memory footprint is bench/agent-footprint.sh ({@code AgentFootprint}).
 */
public final class ScrubThroughput {
    private static final double GIB = 1024.0 * 1024 * 1024;

    private ScrubThroughput() {}

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("throughput")) {
            long bytes = gib(args, 2);
            int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 7;
            throughput(Path.of(args[1]), bytes, rounds);
        } else {
            System.err.println("usage: ScrubThroughput throughput REFERENCE_BINARY [GIB [ROUNDS]]");
            System.exit(2);
        }
    }

    private static long gib(String[] args, int index) {
        return args.length > index ? (long) (Double.parseDouble(args[index]) * GIB) : (long) GIB;
    }

    private static Scrubber scrubber(ScrubConfig.FaultMethod method) {
        return new Scrubber(
                ScrubConfig.defaults().withMaxRate(0).withFaultMethod(method), Path.of("/proc"), Clock.systemUTC());
    }

    private static void throughput(Path reference, long bytes, int rounds) throws Exception {
        Scrubber populate = scrubber(ScrubConfig.FaultMethod.POPULATE_WRITE);
        Scrubber touch = scrubber(ScrubConfig.FaultMethod.TOUCH_EACH_PAGE);
        List<Double> c = new ArrayList<>();
        List<Double> javaPopulate = new ArrayList<>();
        List<Double> javaTouch = new ArrayList<>();
        System.out.printf(Locale.ROOT, "size %.2f GiB, %d rounds after one warm-up round%n", bytes / GIB, rounds);
        for (int round = 0; round <= rounds; round++) {
            // Alternate who goes first, so neither always meets the other's freshly freed pages.
            double cGibPerSecond;
            double populateGibPerSecond;
            double touchGibPerSecond;
            if (round % 2 == 0) {
                cGibPerSecond = reference(reference, bytes);
                populateGibPerSecond = java(populate, bytes);
                touchGibPerSecond = java(touch, bytes);
            } else {
                touchGibPerSecond = java(touch, bytes);
                populateGibPerSecond = java(populate, bytes);
                cGibPerSecond = reference(reference, bytes);
            }
            System.out.printf(
                    Locale.ROOT,
                    "round %d%s: C %.2f GiB/s, Java populate-write %.2f GiB/s, Java touch-each-page %.2f GiB/s%n",
                    round,
                    round == 0 ? " (warm-up)" : "",
                    cGibPerSecond,
                    populateGibPerSecond,
                    touchGibPerSecond);
            if (round > 0) {
                c.add(cGibPerSecond);
                javaPopulate.add(populateGibPerSecond);
                javaTouch.add(touchGibPerSecond);
            }
        }
        double cMedian = median(c);
        System.out.printf(
                Locale.ROOT,
                "median: C reference %.2f GiB/s, Java populate-write %.2f GiB/s (%.2fx), "
                        + "Java touch-each-page %.2f GiB/s (%.2fx)%n",
                cMedian,
                median(javaPopulate),
                median(javaPopulate) / cMedian,
                median(javaTouch),
                median(javaTouch) / cMedian);
    }

    /** One pass of the C reference in a fresh process; its own clock covers mmap to munmap. */
    private static double reference(Path binary, long bytes) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(binary.toString(), Long.toString(bytes))
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (process.waitFor() != 0 || !output.startsWith("bytes=")) {
            throw new IllegalStateException(binary + " failed: " + output);
        }
        double seconds = Double.parseDouble(output.substring(output.indexOf("seconds=") + "seconds=".length()));
        return bytes / GIB / seconds;
    }

    /** One scrub, timed around the whole call: thread start, /proc checks, faults and release. */
    private static double java(Scrubber scrubber, long bytes) {
        long start = System.nanoTime();
        ScrubReport report = scrubber.scrub(bytes);
        long nanos = System.nanoTime() - start;
        if (report.outcome() != ScrubReport.Outcome.COMPLETED || report.bytesZeroed() != bytes) {
            throw new IllegalStateException("scrub did not complete: " + report);
        }
        return bytes / GIB / (nanos / 1e9);
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
