package org.memhygiene.agent.scrub;

import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.agent.ScrubReport.Outcome;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;
import org.memhygiene.core.linux.NativeCallException;

/**
 * Zeroes the guest's free memory: it maps anonymous memory chunk by chunk, write-faults every page (the
 * kernel hands each one out zero-filled, mm/memory.c do_anonymous_page), holds all of it until the target
 * is reached, then unmaps it so the zeroed pages go back to the guest's free lists. Holding everything
 * matters: a page freed and faulted again at once comes back from the same per-CPU free list, so
 * releasing chunk by chunk would zero the same few megabytes over and over.
 *
 * <p>Safety: the target is min(maxBytes, MemAvailable − headroom); before every step of
 * {@link ScrubConfig#stepBytes()} the scrub re-reads MemAvailable and memory pressure and, if either
 * limit is crossed, releases everything it holds and reports why. The scrub runs on its own thread at
 * {@link ScrubConfig#nice()} so the caller's priority is never changed, and at most at
 * {@link ScrubConfig#maxRateBytesPerSecond()}. One scrub runs at a time.
 */
public final class Scrubber {
    private static final System.Logger LOG = System.getLogger(Scrubber.class.getName());

    /** Replaced whole by {@link #reconfigure}; each scrub runs with the config it started with. */
    private volatile ScrubConfig currentConfig;

    private final ProcMemory proc;
    private final SafetyLimits limits;
    private final Clock clock;
    private final long pageBytes = LinuxMemory.pageSizeBytes();
    private final ReentrantLock running = new ReentrantLock();
    private volatile ScrubCounters counters = ScrubCounters.NONE;
    /** Set once the kernel has answered EINVAL to MADV_POPULATE_WRITE (before 5.14). */
    private volatile boolean populateWriteUnsupported;

    /**
     * @param config   limits and tuning
     * @param procRoot the /proc tree to read meminfo, pressure/memory and cmdline from ({@code Path.of("/proc")})
     * @param clock    measures durations and paces the rate cap
     */
    public Scrubber(ScrubConfig config, Path procRoot, Clock clock) {
        this.currentConfig = config;
        this.proc = new ProcMemory(procRoot);
        this.limits = new SafetyLimits(proc);
        this.clock = clock;
    }

    public ScrubConfig config() {
        return currentConfig;
    }

    /** The config of every later scrub (and of triggers rescheduled after this); a running scrub keeps its own. */
    public void reconfigure(ScrubConfig config) {
        this.currentConfig = Objects.requireNonNull(config, "config");
    }

    /** Cumulative figures since this scrubber was made. */
    public ScrubCounters counters() {
        return counters;
    }

    /**
     * Zeroes up to {@code maxBytes} of free memory and reports how it went; never throws for a failed
     * native call or an unreadable /proc file (those give {@link Outcome#FAILED}). While another scrub is
     * running this returns at once with {@link Outcome#SKIPPED_NOTHING_TO_DO}.
     */
    public ScrubReport scrub(long maxBytes) {
        return scrub(maxBytes, currentConfig);
    }

    /** As {@link #scrub(long)}, with {@code config} for this scrub only (e.g. a rate the host asked for). */
    public ScrubReport scrub(long maxBytes, ScrubConfig config) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes = " + maxBytes + ": expected a positive number of bytes");
        }
        if (!running.tryLock()) {
            return new ScrubReport(Outcome.SKIPPED_NOTHING_TO_DO, "another scrub is in progress", 0, 0, 0, 0, 0, 0);
        }
        try {
            ScrubReport report = onScrubThread(maxBytes, config);
            counters = counters.plus(report);
            return report;
        } finally {
            running.unlock();
        }
    }

    MemInfo memInfo() {
        return proc.memInfo();
    }

    /** A fresh thread so the nice value applies to the scrub alone (nice is per thread on Linux). */
    private ScrubReport onScrubThread(long maxBytes, ScrubConfig config) {
        AtomicReference<ScrubReport> result = new AtomicReference<>();
        Thread worker = new Thread(
                () -> {
                    lowerPriority(config.nice());
                    result.set(scrubHere(maxBytes, config));
                },
                "memhygiene-scrub");
        worker.setDaemon(true);
        worker.start();
        boolean interrupted = false;
        while (true) {
            try {
                worker.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
                worker.interrupt(); // the scrub sees it at its next step, releases and returns
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        ScrubReport report = result.get();
        // Only an Error (which the thread's default handler prints) leaves no report; fill() has
        // released the mappings all the same.
        return report != null
                ? report
                : new ScrubReport(Outcome.FAILED, "the scrub thread ended without a report", 0, 0, 0, 0, 0, 0);
    }

    private void lowerPriority(int nice) {
        try {
            if (LinuxThread.currentNice() != nice) {
                LinuxThread.setCurrentNice(nice);
            }
        } catch (NativeCallException e) {
            LOG.log(System.Logger.Level.WARNING, "scrub runs at the caller's priority: " + e.getMessage());
        }
    }

    private ScrubReport scrubHere(long maxBytes, ScrubConfig config) {
        Instant start = clock.instant();
        try {
            if (proc.initOnFree()) {
                return report(
                        Outcome.SKIPPED_INIT_ON_FREE,
                        "the guest kernel runs with init_on_free=1, which already zeroes every freed page",
                        0,
                        0,
                        start,
                        0,
                        0);
            }
            MemInfo memory = proc.memInfo();
            long headroom = config.headroomBytes(memory.memTotalBytes());
            long targetBytes = Math.min(maxBytes, memory.memAvailableBytes() - headroom) / pageBytes * pageBytes;
            if (targetBytes <= 0) {
                return report(
                        Outcome.SKIPPED_NOTHING_TO_DO,
                        "MemAvailable " + SafetyLimits.mib(memory.memAvailableBytes())
                                + " leaves nothing above the headroom of " + SafetyLimits.mib(headroom),
                        0,
                        0,
                        start,
                        0,
                        0);
            }
            return fill(targetBytes, start, config);
        } catch (RuntimeException e) {
            return report(Outcome.FAILED, e.getMessage(), 0, 0, start, 0, 0);
        }
    }

    private ScrubReport fill(long targetBytes, Instant start, ScrubConfig config) {
        List<Mapping> held = new ArrayList<>();
        long zeroed = 0;
        long filledInChunk = 0;
        int chunksCompleted = 0;
        int chunksAborted = 0;
        Outcome outcome = Outcome.COMPLETED;
        String reason = "";
        NativeCallException releaseFailure;
        try {
            while (zeroed < targetBytes) {
                Stop stop = limitCrossed(config);
                if (stop != null) {
                    outcome = stop.outcome();
                    reason = stop.reason();
                    break;
                }
                if (Thread.interrupted()) {
                    outcome = Outcome.FAILED;
                    reason = "interrupted";
                    break;
                }
                if (held.isEmpty() || filledInChunk == held.get(held.size() - 1).lengthBytes()) {
                    long length = Math.min(config.chunkBytes(), targetBytes - zeroed);
                    held.add(new Mapping(LinuxMemory.mapAnonymous(length), length));
                    filledInChunk = 0;
                    // Small pages: a THP fault would compact memory in the guest (copying live pages and
                    // leaving their old frames unzeroed) and skip free memory that is not 2 MiB-contiguous.
                    LinuxMemory.madvise(held.get(held.size() - 1).address(), length, LinuxMemory.MADV_NOHUGEPAGE);
                }
                Mapping chunk = held.get(held.size() - 1);
                long step = Math.min(config.stepBytes(), chunk.lengthBytes() - filledInChunk);
                faultIn(chunk.address().share(filledInChunk), step, config);
                filledInChunk += step;
                zeroed += step;
                if (filledInChunk == chunk.lengthBytes()) {
                    chunksCompleted++;
                }
                pace(zeroed, start, config);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = Outcome.FAILED;
            reason = "interrupted";
        } catch (RuntimeException e) { // a failed native call, an unreadable /proc file
            outcome = Outcome.FAILED;
            reason = String.valueOf(e.getMessage());
        } finally {
            if (!held.isEmpty() && filledInChunk < held.get(held.size() - 1).lengthBytes()) {
                chunksAborted = 1; // the chunk being filled when the scrub stopped
            }
            // Also on an Error: whatever happens, the scrub lets go of everything it holds.
            releaseFailure = release(held);
        }
        if (releaseFailure != null) {
            outcome = Outcome.FAILED;
            reason = (reason.isEmpty() ? "" : reason + "; ") + "release failed: " + releaseFailure.getMessage();
        }
        return report(outcome, reason, zeroed, targetBytes, start, chunksCompleted, chunksAborted);
    }

    /** Null while the scrub may go on, else why it must stop. */
    private Stop limitCrossed(ScrubConfig config) {
        SafetyLimits.Crossed crossed = limits.crossed(config, 0);
        if (crossed == null) {
            return null;
        }
        return new Stop(
                crossed.limit() == SafetyLimits.Limit.HEADROOM ? Outcome.STOPPED_HEADROOM : Outcome.STOPPED_PRESSURE,
                crossed.reason());
    }

    private void faultIn(Pointer address, long lengthBytes, ScrubConfig config) {
        if (config.faultMethod() == ScrubConfig.FaultMethod.POPULATE_WRITE && !populateWriteUnsupported) {
            try {
                LinuxMemory.madvise(address, lengthBytes, LinuxMemory.MADV_POPULATE_WRITE);
                return;
            } catch (NativeCallException e) {
                if (e.errno() != Errno.EINVAL) {
                    throw e;
                }
                populateWriteUnsupported = true;
                LOG.log(System.Logger.Level.INFO, "MADV_POPULATE_WRITE unsupported (Linux < 5.14): touching each page");
            }
        }
        // One write per page: the first write to an untouched anonymous page allocates a zero-filled frame.
        // Pointer.setByte is one native call per page; ByteBuffer.put, a chain of Java calls, reached only
        // 0.63x the C reference in the agent's interpreter-only JVM (-Xint; docs/PERFORMANCE.md "Guest
        // agent: scrub throughput").
        for (long offset = 0; offset < lengthBytes; offset += pageBytes) {
            address.setByte(offset, (byte) 0);
        }
    }

    /**
     * Sleeps as long as the scrub is ahead of the rate cap, but never longer than one step takes at that
     * rate: a wall clock set back must not stall a scrub that holds memory.
     */
    private void pace(long zeroedBytes, Instant start, ScrubConfig config) throws InterruptedException {
        if (config.maxRateBytesPerSecond() == 0) {
            return;
        }
        double dueNanos = zeroedBytes * 1e9 / config.maxRateBytesPerSecond();
        long stepNanos = (long) (config.stepBytes() * 1e9 / config.maxRateBytesPerSecond());
        long aheadNanos = Math.min(
                stepNanos,
                (long) dueNanos - Duration.between(start, clock.instant()).toNanos());
        if (aheadNanos > 0) {
            Thread.sleep(aheadNanos / 1_000_000, (int) (aheadNanos % 1_000_000));
        }
    }

    /** Unmaps every mapping; returns the first failure rather than throwing, so all are tried. */
    private static NativeCallException release(List<Mapping> held) {
        NativeCallException first = null;
        for (Mapping mapping : held) {
            try {
                LinuxMemory.unmap(mapping.address(), mapping.lengthBytes());
            } catch (NativeCallException e) {
                first = first == null ? e : first;
            }
        }
        held.clear();
        return first;
    }

    private ScrubReport report(
            Outcome outcome,
            String reason,
            long zeroedBytes,
            long targetBytes,
            Instant start,
            int chunksCompleted,
            int chunksAborted) {
        long nanos = Math.max(1, Duration.between(start, clock.instant()).toNanos());
        return new ScrubReport(
                outcome,
                reason,
                zeroedBytes,
                targetBytes,
                nanos / 1_000_000,
                zeroedBytes * 1e9 / nanos,
                chunksCompleted,
                chunksAborted);
    }

    private record Mapping(Pointer address, long lengthBytes) {}

    private record Stop(Outcome outcome, String reason) {}
}
