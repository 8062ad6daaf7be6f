package org.memhygiene.controller.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.memhygiene.core.host.HostMemory;

/**
 * The host's /proc figures a sample needs besides KSM: memory (/proc/meminfo, /proc/pressure/memory)
 * and the CPU time of ksmd, the kernel thread that scans for KSM (its utime+stime in /proc/PID/stat,
 * https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html), for the policy's CPU budget.
 */
public final class HostProc {
    private final Path procRoot;
    private final long clockTicksPerSecond;
    private OptionalInt ksmdPid = OptionalInt.empty();

    /**
     * @param procRoot            {@code /proc}, or a tree of a test's own
     * @param clockTicksPerSecond sysconf(_SC_CLK_TCK), the unit of /proc/PID/stat times
     */
    public HostProc(Path procRoot, long clockTicksPerSecond) {
        this.procRoot = procRoot;
        this.clockTicksPerSecond = clockTicksPerSecond;
    }

    public HostMemory memory() {
        Map<String, Long> kib = new HashMap<>();
        try {
            for (String line : Files.readAllLines(procRoot.resolve("meminfo"))) {
                String[] parts = line.split("\\s+");
                if (parts.length >= 2 && parts[0].endsWith(":")) {
                    kib.put(parts[0].substring(0, parts[0].length() - 1), Long.parseLong(parts[1]));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + procRoot.resolve("meminfo"), e);
        }
        return new HostMemory(bytes(kib, "MemTotal"), bytes(kib, "MemFree"),
                kib.containsKey("MemAvailable") ? OptionalLong.of(kib.get("MemAvailable") * 1024) : OptionalLong.empty(),
                bytes(kib, "Buffers"), bytes(kib, "Cached"), bytes(kib, "SwapTotal"), bytes(kib, "SwapFree"),
                pressureSomeAvg10());
    }

    /** ksmd's CPU time so far, in milliseconds; empty when there is no ksmd (no KSM in this kernel). */
    public synchronized OptionalLong ksmdCpuMillis() {
        if (ksmdPid.isEmpty() || !Files.exists(procRoot.resolve(ksmdPid.getAsInt() + "/stat"))) {
            ksmdPid = findKsmd(); // a kernel thread keeps its pid; look again only if it is gone
        }
        if (ksmdPid.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            String stat = Files.readString(procRoot.resolve(ksmdPid.getAsInt() + "/stat"));
            // Fields after the ")" that closes comm: state is field 3, utime 14, stime 15.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return OptionalLong.of(ticks * 1000 / clockTicksPerSecond);
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    private OptionalInt findKsmd() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(procRoot, "[0-9]*")) {
            for (Path entry : entries) {
                try {
                    if (Files.readString(entry.resolve("comm")).strip().equals("ksmd")) {
                        return OptionalInt.of(Integer.parseInt(entry.getFileName().toString()));
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

    private OptionalDouble pressureSomeAvg10() {
        try {
            for (String line : Files.readAllLines(procRoot.resolve("pressure/memory"))) {
                if (line.startsWith("some ")) {
                    for (String field : line.split(" ")) {
                        if (field.startsWith("avg10=")) {
                            return OptionalDouble.of(Double.parseDouble(field.substring(6)));
                        }
                    }
                }
            }
        } catch (IOException e) {
            // no PSI in this kernel (CONFIG_PSI off or psi=0)
        }
        return OptionalDouble.empty();
    }

    private static long bytes(Map<String, Long> kib, String key) {
        Long value = kib.get(key);
        if (value == null) {
            throw new IllegalStateException("/proc/meminfo has no " + key);
        }
        return value * 1024;
    }
}
