package org.memhygiene.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.memhygiene.core.ksm.KsmdThread;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * What the suite measures on the host: KSM's global counters and knobs (/sys/kernel/mm/ksm), the THP
 * counters of /proc/vmstat, ksmd's CPU time, and per QEMU process its RSS, AnonHugePages and ksm_stat.
 * Read directly from the kernel, independently of the controller under test.
 * https://docs.kernel.org/admin-guide/mm/ksm.html, https://docs.kernel.org/filesystems/proc.html
 */
final class HostMeters {
    static final Path KSM = Path.of("/sys/kernel/mm/ksm");
    static final long PAGE_SIZE_BYTES = LinuxMemory.pageSizeBytes();
    private final KsmdThread ksmd = KsmdThread.ofThisMachine();

    HostMeters() {
        if (ksmd.pid().isEmpty()) {
            throw new IllegalStateException("no ksmd thread in /proc: is KSM built into this kernel?");
        }
    }

    /**
     * Global KSM and THP figures at one moment; {@code smartScan} is -1 on a kernel without the file (before
     * Linux 6.7: no page is skipped, so none ages).
     */
    record HostSample(
            long nanos,
            long fullScans,
            long smartScan,
            long pagesScanned,
            long pagesSkipped,
            long pagesSharing,
            long ksmZeroPages,
            long ksmdCpuMillis,
            long thpSplitPage,
            long thpUnderusedSplitPage,
            long thpDeferredSplitPage) {}

    /** One QEMU process at one moment: VmRSS, AnonHugePages (smaps_rollup) and ksm_stat, in bytes. */
    record ProcessSample(long nanos, long rssBytes, long anonHugeBytes, long ksmMergingBytes, long ksmZeroBytes) {
        long ksmSavedBytes() {
            return ksmMergingBytes + ksmZeroBytes;
        }
    }

    HostSample host() {
        Map<String, Long> vmstat = keyValues(Path.of("/proc/vmstat"), " ");
        return new HostSample(
                System.nanoTime(),
                ksm("full_scans"),
                Files.exists(KSM.resolve("smart_scan")) ? ksm("smart_scan") : -1,
                ksmOptional("pages_scanned"),
                ksmOptional("pages_skipped"),
                ksm("pages_sharing"),
                ksmOptional("ksm_zero_pages"),
                ksmdCpuMillis(),
                vmstat.getOrDefault("thp_split_page", 0L),
                vmstat.getOrDefault("thp_underused_split_page", 0L),
                vmstat.getOrDefault("thp_deferred_split_page", 0L));
    }

    static ProcessSample process(int pid) {
        Path proc = Path.of("/proc", Integer.toString(pid));
        Map<String, Long> status = keyValues(proc.resolve("status"), ":");
        Map<String, Long> rollup = keyValues(proc.resolve("smaps_rollup"), ":");
        Map<String, Long> ksm = keyValues(proc.resolve("ksm_stat"), " ");
        return new ProcessSample(
                System.nanoTime(),
                status.getOrDefault("VmRSS", 0L) * 1024,
                rollup.getOrDefault("AnonHugePages", 0L) * 1024,
                ksm.getOrDefault("ksm_merging_pages", 0L) * PAGE_SIZE_BYTES,
                ksm.getOrDefault("ksm_zero_pages", 0L) * PAGE_SIZE_BYTES);
    }

    static long ksm(String file) {
        return Long.parseLong(read(KSM.resolve(file)).trim());
    }

    private static long ksmOptional(String file) {
        return Files.exists(KSM.resolve(file)) ? ksm(file) : 0;
    }

    static void setKsm(String file, long value) {
        try {
            Files.writeString(KSM.resolve(file), Long.toString(value));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + value + " to " + KSM.resolve(file), e);
        }
    }

    long ksmdCpuMillis() {
        return ksmd.cpuMillis().orElseThrow(() -> new IllegalStateException("ksmd is gone from /proc"));
    }

    /** "key value [kB]" or "key: value [kB]" lines; lines whose value is not a number are skipped. */
    static Map<String, Long> keyValues(Path file, String separator) {
        Map<String, Long> values = new HashMap<>();
        for (String line : read(file).split("\n")) {
            int at = line.indexOf(separator);
            if (at <= 0) {
                continue;
            }
            String[] value = line.substring(at + 1).trim().split("\\s+");
            try {
                values.put(line.substring(0, at).trim(), Long.parseLong(value[0]));
            } catch (NumberFormatException e) {
                // a text field (Name:, State:): not a figure
            }
        }
        return values;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }
}
