package org.memhygiene.agent.scrub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the test process's own memory figures from the real /proc. */
final class SelfStatus {
    private SelfStatus() {}

    /** A /proc/self/status field such as VmRSS or VmHWM, in bytes. */
    static long statusBytes(String field) {
        return kibField(Path.of("/proc/self/status"), field);
    }

    /** A /proc/meminfo field such as MemFree, in bytes. */
    static long meminfoBytes(String field) {
        return kibField(Path.of("/proc/meminfo"), field);
    }

    /** /proc/vmstat oom_kill: OOM kills since boot (4.13+). */
    static long oomKills() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/vmstat"))) {
                if (line.startsWith("oom_kill ")) {
                    return Long.parseLong(line.substring("oom_kill ".length()).trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no oom_kill in /proc/vmstat");
    }

    /** Resets VmHWM to the current RSS ("5" to clear_refs, Documentation/filesystems/proc.rst). */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long kibField(Path file, String field) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1)
                                    .replace("kB", "")
                                    .trim())
                            * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no " + field + " in " + file);
    }
}
