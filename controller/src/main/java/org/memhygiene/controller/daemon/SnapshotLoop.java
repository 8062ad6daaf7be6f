package org.memhygiene.controller.daemon;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.SourceState;

/**
 * The daemon's heartbeat: a snapshot of the backend every interval, kept as the latest and handed to
 * every step (policy, posture, metrics, history) and subscriber (the API's live stream), in that order.
 * A failing sample is counted and reported in {@link #status()}; the loop goes on.
 */
public final class SnapshotLoop implements AutoCloseable {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);
    private static final System.Logger LOG = System.getLogger(SnapshotLoop.class.getName());

    /**
     * What {@code memhygiene status} and GET /api/v1/status show.
     *
     * @param sources each source of the last sample: up, or down with its error and how stale its figures are
     */
    public record Status(
            String backend,
            Instant startedAt,
            long intervalMillis,
            long samples,
            long failures,
            Optional<Instant> lastSampleAt,
            Optional<Long> lastSampleMillis,
            Optional<String> lastError,
            List<SourceState> sources) {}

    private final HostBackend backend;
    private final Duration interval;
    private final Clock clock;
    private final List<Consumer<HostSnapshot>> steps;
    private final List<Consumer<HostSnapshot>> subscribers = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "snapshot-loop");
        thread.setDaemon(true);
        return thread;
    });
    private final Instant startedAt;
    private volatile HostSnapshot latest;
    private volatile long samples;
    private volatile long failures;
    private volatile String lastError;

    /**
     * @param steps run on every snapshot, in order, on the loop's thread (policy, posture, metrics,
     *              history); a step that throws is logged and the others still run
     */
    public SnapshotLoop(HostBackend backend, Duration interval, Clock clock, List<Consumer<HostSnapshot>> steps) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, was " + interval);
        }
        this.backend = backend;
        this.interval = interval;
        this.clock = clock;
        this.steps = List.copyOf(steps);
        this.startedAt = clock.instant();
    }

    public void start() {
        scheduler.scheduleWithFixedDelay(this::tick, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One sample now, on the caller's thread (tests, the first sample before the API opens). */
    public synchronized void tick() {
        HostSnapshot snapshot;
        try {
            snapshot = backend.snapshot();
        } catch (RuntimeException e) {
            failures++;
            lastError = clock.instant() + ": " + e.getMessage();
            LOG.log(System.Logger.Level.WARNING, "sample failed: " + e.getMessage());
            return;
        }
        latest = snapshot;
        samples++;
        for (Consumer<HostSnapshot> step : steps) {
            run(step, snapshot);
        }
        for (Consumer<HostSnapshot> subscriber : subscribers) {
            run(subscriber, snapshot);
        }
    }

    private static void run(Consumer<HostSnapshot> step, HostSnapshot snapshot) {
        try {
            step.accept(snapshot);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "a step of the loop failed: " + e.getMessage(), e);
        }
    }

    public Optional<HostSnapshot> latest() {
        return Optional.ofNullable(latest);
    }

    public HostBackend backend() {
        return backend;
    }

    public void subscribe(Consumer<HostSnapshot> subscriber) {
        subscribers.add(subscriber);
    }

    public void unsubscribe(Consumer<HostSnapshot> subscriber) {
        subscribers.remove(subscriber);
    }

    public Status status() {
        HostSnapshot last = latest;
        return new Status(
                backend.describe(),
                startedAt,
                interval.toMillis(),
                samples,
                failures,
                Optional.ofNullable(last).map(HostSnapshot::sampledAt),
                Optional.ofNullable(last).map(s -> s.took().toMillis()),
                Optional.ofNullable(lastError),
                last == null ? List.of() : last.sources());
    }

    /**
     * Stops the loop and waits for a sample in progress to end (at most {@link #CLOSE_WAIT}), so that what
     * its steps write to (the history) can be closed after this returns.
     */
    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "a sample still runs after " + CLOSE_WAIT.toSeconds() + " s; closing anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
