package org.memhygiene.controller.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.ksm.KsmdThread;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.RereadableFile;

/**
 * The host's /proc figures a sample needs besides KSM: memory (/proc/meminfo, /proc/pressure/memory)
 * and the CPU time of ksmd ({@link KsmdThread}), for the policy's CPU budget. Not thread-safe: one
 * sampling thread (its files stay open and are read again in place).
 */
public final class HostProc {
    /** The meminfo fields a sample keeps. */
    private static final Set<String> FIELDS =
            Set.of("MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree");

    private final Path procRoot;
    private final KsmdThread ksmd;
    /** Kept open and read again in place every sample (RereadableFile); opened at the first read. */
    private RereadableFile meminfo;

    private RereadableFile pressure;

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
        String text;
        try {
            if (meminfo == null) {
                meminfo = RereadableFile.open(procRoot.resolve("meminfo"), 64 * 1024);
            }
            text = meminfo.read();
        } catch (ProcMemException e) {
            throw new UncheckedIOException(
                    new IOException("cannot read " + procRoot.resolve("meminfo") + ": " + e.getMessage(), e));
        }
        // "Name:   123 kB" per line; only the fields a sample keeps.
        for (int start = 0, end; start < text.length(); start = end + 1) {
            end = text.indexOf('\n', start);
            end = end < 0 ? text.length() : end;
            int colon = text.indexOf(':', start);
            if (colon < 0 || colon > end || !FIELDS.contains(text.substring(start, colon))) {
                continue;
            }
            int digits = colon + 1;
            while (digits < end && text.charAt(digits) == ' ') {
                digits++;
            }
            int stop = digits;
            while (stop < end && Character.isDigit(text.charAt(stop))) {
                stop++;
            }
            kib.put(text.substring(start, colon), Long.parseLong(text, digits, stop, 10));
        }
        return new HostMemory(
                bytes(kib, "MemTotal"),
                bytes(kib, "MemFree"),
                kib.containsKey("MemAvailable")
                        ? OptionalLong.of(kib.get("MemAvailable") * 1024)
                        : OptionalLong.empty(),
                bytes(kib, "Buffers"),
                bytes(kib, "Cached"),
                bytes(kib, "SwapTotal"),
                bytes(kib, "SwapFree"),
                pressureSomeAvg10());
    }

    /** ksmd's CPU time so far, in milliseconds; empty when there is no ksmd (no KSM in this kernel). */
    public OptionalLong ksmdCpuMillis() {
        return ksmd.cpuMillis();
    }

    private OptionalDouble pressureSomeAvg10() {
        try {
            if (pressure == null) {
                pressure = RereadableFile.open(procRoot.resolve("pressure/memory"), 4096);
            }
            for (String line : pressure.read().split("\n")) {
                if (line.startsWith("some ")) {
                    for (String field : line.split(" ")) {
                        if (field.startsWith("avg10=")) {
                            return OptionalDouble.of(Double.parseDouble(field.substring(6)));
                        }
                    }
                }
            }
        } catch (ProcMemException e) {
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
