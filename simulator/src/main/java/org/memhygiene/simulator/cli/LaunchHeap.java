package org.memhygiene.simulator.cli;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import org.memhygiene.simulator.HeapEstimate;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;
import org.memhygiene.simulator.sweep.Sweep;
import picocli.CommandLine;

/**
 * What bin/memhygiene asks before it starts a simulator command ({@code sim run}, {@code sim sweep},
 * {@code run --scenario}): the heap its scenario needs (HeapEstimate; a sweep runs cells side by side),
 * at least the launcher's default, up to 3/4 of this machine's memory (docs/SIMULATOR.md, "Heap").
 *
 * <p>{@code java -cp ... org.memhygiene.simulator.cli.LaunchHeap ARGS...} with the memhygiene arguments
 * prints {@code -Xms64m -XmxNm {@value #YOUNG}} (for a sweep {@code -XmsNm} and {@value #NO_TRAPS}; and
 * {@value #HUGE_PAGES} where the kernel gives huge pages on request) and exits 0; prints nothing when the
 * arguments are no simulator command or do
 * not parse (the command itself then says what is wrong); exits 2 with the reason on standard error
 * when the scenario needs more than that share of the machine. Run in a small JVM of its own, so the
 * command's JVM starts with the heap it needs: no second JVM stays behind, signals reach the command.
 */
public final class LaunchHeap {
    /** The launcher's default heap: a small scenario gets no less. */
    static final long MIN_HEAP_BYTES = 256L << 20;

    private LaunchHeap() {}

    public static void main(String[] args) {
        try {
            options(args, machineMemoryBytes(), Runtime.getRuntime().availableProcessors())
                    .ifPresent(System.out::println);
        } catch (IllegalStateException refused) {
            System.err.println("memhygiene: " + refused.getMessage());
            System.exit(2);
        }
    }

    static long machineMemoryBytes() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    }

    /**
     * The JVM option for these memhygiene arguments, if they are a simulator command with a scenario that
     * parses; IllegalStateException (the reason) when it needs more than 3/4 of {@code machineBytes}.
     */
    static Optional<String> options(String[] args, long machineBytes, int cpus) {
        Optional<Path> file = scenarioFile(args);
        if (file.isEmpty()) {
            return Optional.empty();
        }
        Scenario s;
        try {
            s = ScenarioParser.load(file.get());
        } catch (IllegalArgumentException bad) {
            return Optional.empty(); // the command reports it, as a usage error
        }
        HeapEstimate need = HeapEstimate.of(s);
        long cap = machineBytes / 4 * 3;
        boolean sweep = args.length > 1 && args[0].equals("sim") && args[1].equals("sweep");
        int atOnce = sweep ? Sweep.parallelism(s, cpus, cap) : 1;
        // The JVM's maxMemory, against which the simulation checks its heap and the sweep counts the cells
        // it runs side by side, leaves out a survivor space (up to 1/30 of the heap with the serial
        // collector): without these 1/16 more the sweep ran its cells one at a time.
        long heap = Math.max(MIN_HEAP_BYTES, need.maxHeapBytes(atOnce) * 17 / 16);
        if (heap > cap) {
            throw new IllegalStateException(String.format(
                    Locale.ROOT,
                    "scenario %s needs about %d MiB of heap (%s, and room to work), more than 3/4 of this machine's %d MiB;"
                            + " simulate fewer or smaller guests, or choose the heap with MEMHYGIENE_JAVA_OPTS=-Xmx...",
                    file.get(),
                    heap >> 20,
                    need.describe(),
                    machineBytes >> 20));
        }
        long heapMiB = (heap + (1 << 20) - 1) >> 20;
        // A sweep's cells allocate their page arrays one after another until the heap is full: started at
        // its full size, the old generation is not grown by a full collection at a time, which stops every
        // cell (web-farm's sweep: 6 full collections against 12-15; docs/PERFORMANCE.md, "Twentieth
        // session"). Only what is touched becomes resident.
        return Optional.of("-Xms" + (sweep ? heapMiB : 64) + "m -Xmx" + heapMiB + "m " + YOUNG
                + (hugePagesOnRequest() ? " " + HUGE_PAGES : "")
                + (sweep ? " " + NO_TRAPS : ""));
    }

    /**
     * For a sweep: the optimizing compiler compiles every branch instead of trapping on branches its
     * profile has not seen taken. A sweep's cells are short simulations whose different knobs and
     * hygiene modes take such branches one after another: with traps, {@code sim sweep
     * docs/scenarios/web-farm.yaml} compiled {@code SettledPages.pass} 54 times (5.2 s of the compiler's
     * time on 2 CPUs, 10.1 s of compilations in all), without them 4 times (2.6 s in all); the sweep was
     * faster in 9 of 11 pairs of runs, by 0.85-0.97 (docs/PERFORMANCE.md, "Twelfth session"). A long
     * simulation gains nothing: its code is compiled a few times and runs for minutes, faster with the
     * traps.
     */
    static final String NO_TRAPS = "-XX:PerMethodTrapLimit=0";

    /**
     * A young generation smaller than the simulation's page arrays (tens to hundreds of MiB each), so
     * they are allocated in the old generation at once instead of copied there by the next young
     * collection: the serial collector's pauses in {@code sim sweep docs/scenarios/web-farm.yaml}, which
     * stop every cell, went from 1.4-1.6 s to 0.65-0.7 s (docs/PERFORMANCE.md, "Simulator: scan engines").
     * Every array of 1 MiB or more goes there too: the smaller page arrays (a byte per page: 8 MiB for
     * a sweep cell's 8 guests of 4 GiB) and the skipping engine's index still fitted in the young
     * generation, and each young collection copied them; with the threshold a sweep made 5 young
     * collections instead of 57-58, its pauses 0.20-0.26 s instead of 0.39-0.52 s (docs/PERFORMANCE.md,
     * "Twentieth session"). The initial heap holds the young generation (the JVM warns on standard
     * output otherwise).
     */
    static final String YOUNG = "-Xmn32m -XX:PretenureSizeThreshold=1m";

    /**
     * Transparent huge pages for the heap: the simulation's random page accesses over hundreds of MiB
     * miss the TLB on almost every access with 4 KiB pages; with 2 MiB pages a simulated day of
     * 64 x 4 GiB takes about a quarter less time (docs/PERFORMANCE.md, "Simulator: scan engines").
     * Asked for only where the kernel gives them on request (madvise); with "always" the heap gets them
     * anyway, with "never" the JVM would print a warning.
     */
    static final String HUGE_PAGES = "-XX:+UseTransparentHugePages";

    static boolean hugePagesOnRequest() {
        try {
            return Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"))
                    .contains("[madvise]");
        } catch (IOException | RuntimeException absent) {
            return false;
        }
    }

    /** The scenario file of {@code sim run|sweep ... FILE} or {@code run --scenario FILE}, as picocli reads them. */
    static Optional<Path> scenarioFile(String[] args) {
        if (args.length > 1 && args[0].equals("sim") && (args[1].equals("run") || args[1].equals("sweep"))) {
            try {
                CommandLine.ParseResult parsed =
                        new CommandLine(new SimCommand()).parseArgs(Arrays.copyOfRange(args, 1, args.length));
                return parsed.hasSubcommand()
                        ? Optional.ofNullable(((SimCommand.ScenarioCommand)
                                        parsed.subcommand().commandSpec().userObject())
                                .scenario)
                        : Optional.empty();
            } catch (CommandLine.ParameterException bad) {
                return Optional.empty();
            }
        }
        if (args.length > 0 && args[0].equals("run")) {
            for (int i = 1; i < args.length; i++) {
                if (args[i].equals("--scenario") && i + 1 < args.length) {
                    return Optional.of(Path.of(args[i + 1]));
                }
                if (args[i].startsWith("--scenario=")) {
                    return Optional.of(Path.of(args[i].substring("--scenario=".length())));
                }
            }
        }
        return Optional.empty();
    }
}
