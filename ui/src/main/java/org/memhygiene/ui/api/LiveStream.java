package org.memhygiene.ui.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.memhygiene.core.json.Json;

/**
 * The controller's live stream (GET /api/v1/stream, Server-Sent Events), kept open: when the connection
 * fails, ends, or stays silent longer than {@code silenceLimit}, the listener hears why and the stream
 * reconnects after a backoff (doubling from {@link #FIRST_RETRY} to {@link #MAX_RETRY}, reset once an
 * event arrives).
 */
public final class LiveStream implements AutoCloseable {
    static final Duration FIRST_RETRY = Duration.ofMillis(250);
    static final Duration MAX_RETRY = Duration.ofSeconds(8);

    /** What the stream reports, on the stream's own threads. */
    public interface Listener {
        /** An event {@code snapshot}: the GET /api/v1/vms document. */
        void snapshot(JsonNode vmsDocument);

        /** The connection is lost; the next attempt (number {@code attempt}) starts in {@code retryIn}. */
        void lost(String reason, Duration retryIn, int attempt);
    }

    private final ControllerClient client;
    private final Listener listener;
    private final Duration silenceLimit;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "memhygiene-ui-stream");
        t.setDaemon(true);
        return t;
    });
    private final Object lock = new Object();
    private int failures;
    private long lastEventNanos;
    private int generation;
    private CompletableFuture<?> current;
    private ScheduledFuture<?> watchdog;
    private boolean closed;

    public LiveStream(ControllerClient client, Listener listener, Duration silenceLimit) {
        this.client = client;
        this.listener = listener;
        this.silenceLimit = silenceLimit;
    }

    public void start() {
        timer.execute(this::connect);
        watchdog = timer.scheduleWithFixedDelay(this::checkSilence, 500, 500, TimeUnit.MILLISECONDS);
    }

    private void connect() {
        int mine;
        synchronized (lock) {
            if (closed) {
                return;
            }
            mine = ++generation;
            lastEventNanos = System.nanoTime();
        }
        HttpRequest request = HttpRequest.newBuilder(client.uri("/api/v1/stream"))
                .header("Accept", "text/event-stream")
                .GET()
                .build();
        CompletableFuture<?> call = client.send(request, HttpResponse.BodyHandlers.fromLineSubscriber(new Lines(mine)))
                .handle((response, failure) -> {
                    if (failure != null) {
                        fail(
                                mine,
                                ControllerClient.describe(failure.getCause() != null ? failure.getCause() : failure));
                    } else if (response.statusCode() != 200) {
                        fail(mine, "the stream answered HTTP " + response.statusCode());
                    } else {
                        fail(mine, "the controller closed the stream");
                    }
                    return null;
                });
        synchronized (lock) {
            current = call;
        }
    }

    private void checkSilence() {
        int mine;
        synchronized (lock) {
            if (closed || System.nanoTime() - lastEventNanos < silenceLimit.toNanos()) {
                return;
            }
            mine = generation;
        }
        fail(mine, "no event for " + silenceLimit.toSeconds() + " s");
    }

    /** Ends attempt {@code attempt} (once) and schedules the next. */
    private void fail(int attempt, String reason) {
        Duration retry;
        int count;
        synchronized (lock) {
            if (closed || attempt != generation) {
                return;
            }
            generation++; // later callbacks of the failed attempt are ignored
            if (current != null) {
                current.cancel(true);
            }
            count = ++failures;
            long millis = Math.min(MAX_RETRY.toMillis(), FIRST_RETRY.toMillis() << Math.min(count - 1, 10));
            retry = Duration.ofMillis(millis);
            lastEventNanos = Long.MAX_VALUE / 2; // no silence check until the next attempt starts
        }
        listener.lost(reason, retry, count);
        timer.schedule(this::connect, retry.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void event(int attempt, String data) {
        synchronized (lock) {
            if (closed || attempt != generation) {
                return;
            }
            failures = 0;
            lastEventNanos = System.nanoTime();
        }
        JsonNode document;
        try {
            document = Json.mapper().readTree(data);
        } catch (Exception e) {
            fail(attempt, "the stream sent an event that is not JSON: " + e.getMessage());
            return;
        }
        listener.snapshot(document);
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (current != null) {
                current.cancel(true);
            }
        }
        if (watchdog != null) {
            watchdog.cancel(false);
        }
        timer.shutdownNow();
    }

    /** Server-Sent Events framing: "event:" and "data:" lines, a blank line ends an event. */
    private final class Lines implements Flow.Subscriber<String> {
        private final int attempt;
        private String event = "message";
        private final StringBuilder data = new StringBuilder();

        Lines(int attempt) {
            this.attempt = attempt;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            if (line.isEmpty()) {
                if (event.equals("snapshot") && data.length() > 0) {
                    event(attempt, data.toString());
                }
                event = "message";
                data.setLength(0);
            } else if (line.startsWith("event:")) {
                event = line.substring("event:".length()).strip();
            } else if (line.startsWith("data:")) {
                if (data.length() > 0) {
                    data.append('\n');
                }
                data.append(line.substring("data:".length()).stripLeading());
            }
        }

        @Override
        public void onError(Throwable throwable) {
            // handled by the response future
        }

        @Override
        public void onComplete() {
            // handled by the response future
        }
    }
}
