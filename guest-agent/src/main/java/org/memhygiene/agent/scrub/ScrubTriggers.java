package org.memhygiene.agent.scrub;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.memhygiene.core.agent.ScrubReport;

/**
 * The scrubs nobody asks for: periodic ones, and one after a large free (used memory, MemTotal −
 * MemAvailable, falling by at least {@link ScrubConfig#largeFreeThresholdBytes()} between two samples).
 * Both are off unless the scrubber's config turns them on. The scheduler is the caller's, so tests can
 * drive it with short intervals; a scrub runs on a scheduler thread and blocks only that thread.
 */
public final class ScrubTriggers implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ScrubTriggers.class.getName());

    private final Scrubber scrubber;
    private final ScheduledExecutorService scheduler;
    private final Consumer<ScrubReport> onReport;
    private final List<ScheduledFuture<?>> scheduled = new ArrayList<>();
    private long previousUsedBytes = -1;
    private long scrubsSeen = -1;

    /**
     * @param scrubber  runs the scrubs; its config says which triggers are on
     * @param scheduler runs the samples and the scrubs
     * @param onReport  receives the report of every scrub these triggers start (e.g. to tell the host)
     */
    public ScrubTriggers(Scrubber scrubber, ScheduledExecutorService scheduler, Consumer<ScrubReport> onReport) {
        this.scrubber = scrubber;
        this.scheduler = scheduler;
        this.onReport = onReport;
    }

    /**
     * Schedules the triggers the scrubber's current config turns on, replacing those scheduled before
     * (call it again after {@link Scrubber#reconfigure}). A scrub already running finishes first.
     */
    public synchronized void reschedule() {
        scheduled.forEach(future -> future.cancel(false));
        scheduled.clear();
        ScrubConfig config = scrubber.config();
        if (config.periodicIntervalMillis() > 0) {
            scheduled.add(scheduler.scheduleWithFixedDelay(
                    guarded(this::scrubNow),
                    config.periodicIntervalMillis(),
                    config.periodicIntervalMillis(),
                    TimeUnit.MILLISECONDS));
        }
        if (config.largeFreeThresholdBytes() > 0) {
            scheduled.add(scheduler.scheduleWithFixedDelay(
                    guarded(this::sample), 0, config.largeFreeSampleMillis(), TimeUnit.MILLISECONDS));
        }
    }

    /** Cancels the triggers; a scrub already running is interrupted, releases what it holds and reports. */
    @Override
    public synchronized void close() {
        scheduled.forEach(future -> future.cancel(true));
        scheduled.clear();
    }

    private void scrubNow() {
        onReport.accept(scrubber.scrub(scrubber.config().triggeredMaxBytes()));
    }

    /**
     * Compares used memory with the previous sample. Any scrub since then (ours or one requested by the
     * host) makes a new baseline instead: a scrub's own release looks exactly like a large free. Not
     * synchronized: a fixed-delay task never overlaps itself, and close() must not wait for a scrub.
     */
    private void sample() {
        MemInfo memory = scrubber.memInfo();
        long usedBytes = memory.memTotalBytes() - memory.memAvailableBytes();
        long scrubs = scrubber.counters().scrubsRun();
        boolean freedEnough = scrubs == scrubsSeen
                && previousUsedBytes >= 0
                && previousUsedBytes - usedBytes >= scrubber.config().largeFreeThresholdBytes();
        if (freedEnough) {
            scrubNow();
            memory = scrubber.memInfo();
            usedBytes = memory.memTotalBytes() - memory.memAvailableBytes();
            scrubs = scrubber.counters().scrubsRun();
        }
        previousUsedBytes = usedBytes;
        scrubsSeen = scrubs;
    }

    /** An exception would silently end a fixed-delay schedule: log it and keep the trigger alive. */
    private static Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "scrub trigger failed: " + e.getMessage(), e);
            }
        };
    }
}
