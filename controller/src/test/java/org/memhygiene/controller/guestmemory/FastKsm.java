package org.memhygiene.controller.guestmemory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * The real KSM scanning fast with use_zero_pages=1 (smart_scan off and the advisor off where the kernel
 * has them: both would slow or refuse the scan), for a test or a benchmark that needs a process's pages
 * merged; {@link #close} puts every knob back, and a shutdown hook does if the JVM is stopped first.
 * Hold /tmp/memhygiene-ksm.lock while using it. Public for the pagemap pass benchmark (bench module).
 */
public final class FastKsm implements AutoCloseable {
    private final KsmSysfs sysfs;
    private final KsmRestorePoint restorePoint;
    private final Thread hook;

    private FastKsm(KsmSysfs sysfs, KsmRestorePoint restorePoint, Thread hook) {
        this.sysfs = sysfs;
        this.restorePoint = restorePoint;
        this.hook = hook;
    }

    /** Whether this process may change KSM (root, a kernel with KSM). */
    public static boolean available() {
        return Files.isWritable(KsmSysfs.DEFAULT_ROOT.resolve("run"));
    }

    public static FastKsm start(int pagesToScan) {
        Path ksm = KsmSysfs.DEFAULT_ROOT;
        KsmSysfs sysfs = new KsmSysfs(ksm, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
        List<String> knobs = new ArrayList<>(
                List.of("pages_to_scan=" + pagesToScan, "sleep_millisecs=10", "use_zero_pages=1", "run=1"));
        if (Files.exists(ksm.resolve("advisor_mode"))) {
            knobs.add(0, "advisor_mode=none"); // the advisor refuses pages_to_scan while it tunes it
        }
        if (Files.exists(ksm.resolve("smart_scan"))) {
            knobs.add("smart_scan=0");
        }
        KsmSettings settings = KsmSettings.parse(knobs);
        KsmRestorePoint restorePoint = KsmRestorePoint.before(sysfs, settings);
        Thread hook = restorePoint.restoreOnShutdown();
        sysfs.apply(settings);
        return new FastKsm(sysfs, restorePoint, hook);
    }

    /**
     * Waits until the process's ksm_stat shows {@code zeroPages} zero pages and {@code mergingPages}
     * merged pages, bounded by ksmd's own progress ({@code maxFullScans} full scans), not by a time
     * tuned to this machine; the counters are polled.
     */
    public ProcessKsmStat waitForMerging(int pid, long zeroPages, long mergingPages, long maxFullScans)
            throws InterruptedException {
        ProcessKsmReader processes = new ProcessKsmReader(Path.of("/proc"));
        long firstScan = sysfs.read().fullScans().getAsLong();
        long backstop = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        Optional<ProcessKsmStat> stat = Optional.empty();
        long scans = 0;
        while (scans <= maxFullScans && System.nanoTime() < backstop) {
            stat = processes.read(pid);
            if (stat.isPresent()
                    && stat.get().zeroPages().orElse(0) >= zeroPages
                    && stat.get().mergingPages().orElse(0) >= mergingPages) {
                return stat.get();
            }
            scans = sysfs.read().fullScans().getAsLong() - firstScan;
            Thread.sleep(20);
        }
        throw new AssertionError("KSM did not merge the pages of " + pid + " in " + scans + " full scans: " + stat);
    }

    /** Stops ksmd (run=0); merged pages stay merged. */
    public void stop() {
        sysfs.apply(KsmSettings.parse(List.of("run=0")));
    }

    /** Whether every knob is back to what it was (after {@link #close}). */
    public boolean restored() {
        return restorePoint
                .previousValues()
                .equals(sysfs.currentValues(restorePoint.previousValues().keySet()));
    }

    public Map<KsmKnob, String> previousValues() {
        return restorePoint.previousValues();
    }

    @Override
    public void close() {
        restorePoint.restore();
        Runtime.getRuntime().removeShutdownHook(hook);
    }
}
