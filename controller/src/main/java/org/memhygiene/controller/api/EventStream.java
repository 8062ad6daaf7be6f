package org.memhygiene.controller.api;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.memhygiene.core.host.HostSnapshot;

/**
 * The live stream, GET /api/v1/stream (docs/API.md "The live stream"): Server-Sent Events written with
 * the servlet API's non-blocking output (an async request and a WriteListener), so that no thread ever
 * waits for a client. The sampling thread hands each snapshot to {@link #accept}, which encodes it once
 * and puts it in every client's queue of {@link #QUEUE_EVENTS}; one writer thread, and Jetty's threads when
 * a client's socket has room again, write as much as each client takes. A client that reads slower than
 * the daemon samples loses its oldest queued events and, before its next snapshot, gets an event
 * {@code lost} saying how many; one whose socket takes nothing for Jetty's idle timeout (30 s) is
 * disconnected by Jetty. Before issue 13 the sampling thread wrote to every client itself, and one client
 * that did not read stopped sampling for that idle timeout.
 */
final class EventStream extends HttpServlet implements Consumer<HostSnapshot>, AutoCloseable {
    /** Events a client may fall behind by before it loses the oldest: 8 samples. */
    static final int QUEUE_EVENTS = 8;
    /** Clients at once; each costs its socket's buffers and a queue of references to shared events. */
    static final int MAX_CLIENTS = 1000;

    private final Function<HostSnapshot, String> render;
    private final Supplier<Optional<HostSnapshot>> latest;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    /** Writes what the sampling thread queued, so that the sampling thread does no client I/O at all. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "api-stream-writer");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * @param render a snapshot as the data of one event (one line of JSON)
     * @param latest the snapshot a new client gets first
     */
    EventStream(Function<HostSnapshot, String> render, Supplier<Optional<HostSnapshot>> latest) {
        this.render = render;
        this.latest = latest;
    }

    /** On the sampling thread: encodes the event once and queues it for every client; never waits. */
    @Override
    public synchronized void accept(HostSnapshot snapshot) {
        if (clients.isEmpty()) {
            return;
        }
        byte[] event = event("snapshot", render.apply(snapshot));
        for (Client client : clients) {
            // A client that joined after the loop published this snapshot as the latest, but before this call,
            // got it as its first event already: not twice.
            if (snapshot.sampledAt().isAfter(client.sentSampledAt)) {
                client.sentSampledAt = snapshot.sampledAt();
                client.offer(event);
            }
        }
        writer.execute(() -> clients.forEach(Client::write));
    }

    /** One Server-Sent Event (https://html.spec.whatwg.org/multipage/server-sent-events.html); {@code data} is one line. */
    private static byte[] event(String type, String data) {
        return ("event: " + type + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String accept = request.getHeader("Accept");
        if (accept == null || !accept.contains("text/event-stream")) {
            error(
                    response,
                    HttpServletResponse.SC_NOT_ACCEPTABLE,
                    "the stream is Server-Sent Events: send Accept: text/event-stream");
            return;
        }
        if (clients.size() >= MAX_CLIENTS) {
            error(
                    response,
                    HttpServletResponse.SC_SERVICE_UNAVAILABLE,
                    "already " + MAX_CLIENTS + " stream clients; try again later");
            return;
        }
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("text/event-stream");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-cache");
        // The body ends when the connection does, as before (Javalin's SSE): no chunk framing between events.
        response.setHeader("Connection", "close");
        response.setHeader("X-Accel-Buffering", "no"); // a proxy in front must not hold events back
        AsyncContext async = request.startAsync();
        async.setTimeout(0); // the stream lasts; Jetty's idle timeout still ends a client that takes nothing
        Client client = new Client(async, response.getOutputStream());
        async.addListener(client);
        synchronized (this) { // no sample between the first event and the registration: none lost, none out of order
            latest.get().ifPresent(snapshot -> {
                client.sentSampledAt = snapshot.sampledAt();
                client.offer(event("snapshot", render.apply(snapshot)));
            });
            clients.add(client);
        }
        client.output.setWriteListener(client); // calls onWritePossible at once: the first event goes out
    }

    private static void error(HttpServletResponse response, int status, String message) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.getWriter().write(ApiServer.errorDocument(message));
    }

    int clients() {
        return clients.size();
    }

    @Override
    public void close() {
        writer.shutdownNow();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        clients.forEach(Client::end);
    }

    /** One client: its queue, and writes only while its socket takes them (ServletOutputStream.isReady). */
    private final class Client implements WriteListener, AsyncListener {
        private final AsyncContext async;
        private final ServletOutputStream output;
        private final ArrayDeque<byte[]> queue = new ArrayDeque<>(QUEUE_EVENTS);
        /** The sample time of the last snapshot queued for this client (guarded by the EventStream). */
        private Instant sentSampledAt = Instant.MIN;

        private long lost;
        private boolean listening;
        private boolean ended;

        Client(AsyncContext async, ServletOutputStream output) {
            this.async = async;
            this.output = output;
        }

        /** Never waits: a full queue drops its oldest event, which is counted. */
        synchronized void offer(byte[] event) {
            if (queue.size() == QUEUE_EVENTS) {
                queue.poll();
                lost++;
            }
            queue.add(event);
        }

        /** Writes until the queue is empty or the socket is full; then Jetty calls onWritePossible when it has room. */
        synchronized void write() {
            if (!listening || ended) {
                return;
            }
            try {
                while (output.isReady()) {
                    byte[] next;
                    if (lost > 0) {
                        next = event("lost", "{\"lost_events\":" + lost + "}");
                        lost = 0;
                    } else {
                        next = queue.poll();
                    }
                    if (next == null) {
                        return;
                    }
                    output.write(next);
                    if (output.isReady()) {
                        output.flush();
                    }
                }
            } catch (IOException | IllegalStateException e) {
                end(); // the client went away
            }
        }

        @Override
        public void onWritePossible() {
            synchronized (this) {
                listening = true;
            }
            write();
        }

        @Override
        public void onError(Throwable failure) {
            end(); // a failed write, or Jetty's idle timeout on a client that takes nothing
        }

        synchronized void end() {
            clients.remove(this);
            if (!ended) {
                ended = true;
                queue.clear();
                try {
                    async.complete();
                } catch (IllegalStateException e) {
                    // already completed by Jetty
                }
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            clients.remove(this);
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            end();
        }

        @Override
        public void onError(AsyncEvent event) {
            end();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // not restarted
        }
    }
}
