package org.memhygiene.controller.guestmemory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * Measures one process's memory once, in its own JVM, and prints how: for tests that run the monitor
 * with other privileges than their own (GuestMemoryFallbackTest). Arguments: PID RAM_BYTES METHOD [PROC_ROOT],
 * METHOD as {@link GuestMemoryMethod#parse}.
 */
public final class MeasureOnce {
    private MeasureOnce() {}

    public static void main(String[] args) {
        Path proc = Path.of(args.length > 3 ? args[3] : "/proc");
        try (GuestMemoryMonitor monitor = GuestMemoryMonitor.open(
                proc,
                GuestMemoryMonitorTest.THP,
                LinuxMemory.pageSizeBytes(),
                PassBudget.wholePass(),
                GuestMemoryMethod.parse(args[2]),
                Clock.systemUTC())) {
            GuestMemory measured = monitor.sample(
                            List.of(new GuestMemoryTarget("vm", Integer.parseInt(args[0]), Long.parseLong(args[1]))))
                    .get("vm");
            System.out.println("method: " + measured.methodDescription());
            System.out.println("reclaimed pages: " + measured.reclaimedPages());
            System.out.println("process rss pages: " + measured.processRssPages());
        }
    }
}
