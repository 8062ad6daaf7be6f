package org.memhygiene.controller.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.ksm.KsmdThread;

/**
 * The host's /proc figures a sample needs besides KSM: memory (/proc/meminfo, /proc/pressure/memory)
 * and the CPU time of ksmd ({@link KsmdThread}), for the policy's CPU budget.
 */
public final class HostProc {
    private final Path procRoot;
    private final KsmdThread ksmd;

    /**
     * @param procRoot            {@code /proc}, or a tree of a test's own
     * @param clockTicksPerSecond sysconf(_SC_CLK_TCK), the unit of /proc/PID/stat times
     */
    public HostProc(Path procRoot, long clockTicksPerSecond) {
        this.procRoot = procRoot;
        this.ksmd = new KsmdThread(procRoot, clockTicksPerSecond);
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
    public OptionalLong ksmdCpuMillis() {
        return ksmd.cpuMillis();
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
