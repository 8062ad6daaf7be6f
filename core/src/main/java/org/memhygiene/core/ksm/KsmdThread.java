package org.memhygiene.core.ksm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.memhygiene.core.linux.LinuxThread;

/**
 * ksmd, the kernel thread that scans for KSM: found once by its comm in /proc (a kernel thread keeps its
 * pid; it is looked for again only when gone), and its CPU time, utime + stime of /proc/PID/stat
 * (https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html), for the policy's CPU budget and the
 * benchmarks that measure ksmd.
 */
public final class KsmdThread {
    private final Path procRoot;
    private final long clockTicksPerSecond;
    private OptionalInt pid = OptionalInt.empty();

    /**
     * @param procRoot            {@code /proc}, or a tree of a test's own
     * @param clockTicksPerSecond sysconf(_SC_CLK_TCK), the unit of /proc/PID/stat times
     */
    public KsmdThread(Path procRoot, long clockTicksPerSecond) {
        this.procRoot = procRoot;
        this.clockTicksPerSecond = clockTicksPerSecond;
    }

    /** This machine's ksmd. */
    public static KsmdThread ofThisMachine() {
        return new KsmdThread(ProcessKsmReader.DEFAULT_ROOT, LinuxThread.clockTicksPerSecond());
    }

    /** ksmd's pid; empty when there is no ksmd (no KSM in this kernel). */
    public synchronized OptionalInt pid() {
        if (pid.isEmpty() || !Files.exists(procRoot.resolve(pid.getAsInt() + "/stat"))) {
            pid = find();
        }
        return pid;
    }

    /** ksmd's CPU time since boot, in milliseconds; empty without ksmd. */
    public synchronized OptionalLong cpuMillis() {
        OptionalInt ksmd = pid();
        if (ksmd.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            String stat = Files.readString(procRoot.resolve(ksmd.getAsInt() + "/stat"));
            // Fields after the ")" that closes comm: state is field 3, utime 14, stime 15.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return OptionalLong.of(ticks * 1000 / clockTicksPerSecond);
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    private OptionalInt find() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(procRoot, "[0-9]*")) {
            for (Path entry : entries) {
                try {
                    if (Files.readString(entry.resolve("comm")).strip().equals("ksmd")) {
                        return OptionalInt.of(
                                Integer.parseInt(entry.getFileName().toString()));
                    }
                } catch (NoSuchFileException e) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + procRoot, e);
        }
        return OptionalInt.empty();
    }
}
