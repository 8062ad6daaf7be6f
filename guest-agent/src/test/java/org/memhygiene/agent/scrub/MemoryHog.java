package org.memhygiene.agent.scrub;

import com.sun.jna.Pointer;
import java.io.IOException;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * A second real process for the safety tests: allocates and touches memory in steps of STEP_MIB until
 * MemAvailable is MARGIN_MIB under FLOOR_BYTES (the scrub's headroom), printing "allocated N" after each
 * step, then {@value #UNDER} with what it holds and MemAvailable (or {@value #GAVE_UP} after MAX_MIB),
 * then "done"; it holds it all until its standard input closes.
 *
 * <p>It allocates to a level of MemAvailable, not a fixed amount: on a busy machine another process
 * may give back hundreds of MiB while the test runs (a CI run once saw the scrub complete beside a hog
 * of a fixed 1 GiB while another JVM on the machine exited), and the hog then takes that too. Since it stops
 * there, it never takes the machine below the floor by much more than the margin and one step.
 */
public final class MemoryHog {
    static final String UNDER = "under the floor:";
    static final String GAVE_UP = "gave up:";

    private MemoryHog() {}

    public static void main(String[] args) throws IOException {
        long mib = 1024L * 1024L;
        long floorBytes = Long.parseLong(args[0]);
        long marginMib = Long.parseLong(args[1]);
        long stepMib = Long.parseLong(args[2]);
        long maxMib = Long.parseLong(args[3]);
        long allocatedMib = 0;
        while (true) {
            long available = SelfStatus.meminfoBytes("MemAvailable");
            if (available < floorBytes - marginMib * mib || allocatedMib >= maxMib) {
                System.out.printf(
                        "%s allocated %d MiB, MemAvailable %d MiB, floor %d MiB%n",
                        allocatedMib >= maxMib && available >= floorBytes - marginMib * mib ? GAVE_UP : UNDER,
                        allocatedMib,
                        available / mib,
                        floorBytes / mib);
                break;
            }
            Pointer memory = LinuxMemory.mapAnonymous(stepMib * mib);
            LinuxMemory.madvise(memory, stepMib * mib, LinuxMemory.MADV_POPULATE_WRITE);
            allocatedMib += stepMib;
            System.out.println("allocated " + allocatedMib);
            System.out.flush();
        }
        System.out.println("done");
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold the memory until the test closes our input
        }
    }

    /**
     * Starts a hog with the test's own JVM and class path that allocates until MemAvailable is
     * {@code marginMib} under {@code floorBytes}, in steps of 32 MiB, at most {@code maxMib}.
     */
    static Process start(long floorBytes, long marginMib, long maxMib) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(
                        java,
                        "-Xmx32m",
                        "-XX:+UseSerialGC",
                        "-cp",
                        System.getProperty("java.class.path"),
                        MemoryHog.class.getName(),
                        Long.toString(floorBytes),
                        Long.toString(marginMib),
                        "32",
                        Long.toString(maxMib))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }
}
