package org.memhygiene.agent.scrub;

import com.sun.jna.Pointer;
import java.io.IOException;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * A second real process for the safety tests: allocates and touches MIB_TOTAL MiB in steps of
 * MIB_STEP, printing "allocated N" after each, then "done", and holds it all until its standard input
 * closes.
 */
public final class MemoryHog {
    private MemoryHog() {}

    public static void main(String[] args) throws IOException {
        long mib = 1024L * 1024L;
        long totalMib = Long.parseLong(args[0]);
        long stepMib = Long.parseLong(args[1]);
        for (long done = 0; done < totalMib; done += stepMib) {
            long length = Math.min(stepMib, totalMib - done) * mib;
            Pointer memory = LinuxMemory.mapAnonymous(length);
            LinuxMemory.madvise(memory, length, LinuxMemory.MADV_POPULATE_WRITE);
            System.out.println("allocated " + (done + length / mib));
            System.out.flush();
        }
        System.out.println("done");
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold the memory until the test closes our input
        }
    }

    /** Starts a hog with the test's own JVM and class path. */
    static Process start(long totalMib, long stepMib) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(
                        java,
                        "-Xmx32m",
                        "-XX:+UseSerialGC",
                        "-cp",
                        System.getProperty("java.class.path"),
                        MemoryHog.class.getName(),
                        Long.toString(totalMib),
                        Long.toString(stepMib))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }
}
