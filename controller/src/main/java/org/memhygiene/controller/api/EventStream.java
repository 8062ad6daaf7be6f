package org.memhygiene.controller.api;

import io.javalin.http.sse.SseClient;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.memhygiene.core.host.HostSnapshot;

/**
 * The live stream's fan-out (GET /api/v1/stream, docs/API.md): the sampling thread hands every snapshot
 * to {@link #accept}, which renders it once and puts it in each client's queue without ever waiting.
 * Each client has a queue of {@link #QUEUE_EVENTS} events and a sender thread of its own, so a client that
 * reads slowly, or not at all, costs itself alone: when its queue is full the oldest event is dropped,
 * and before the next one it gets an event {@code lost} saying how many it missed; a client whose socket
 * takes nothing for Jetty's idle timeout (30 s) is disconnected by Jetty. The daemon's sampling never
 * waits for a client (the fault of issue 13: one stalled client stopped sampling for its idle timeout).
 */
final class EventStream implements Consumer<HostSnapshot>, AutoCloseable {
    /** Events a client may fall behind by before it loses the oldest: 8 samples. */
    static final int QUEUE_EVENTS = 8;
    /** Clients at once; each costs a thread (256 KiB of stack reserved, a few KiB used) and its queue. */
    static final int MAX_CLIENTS = 1000;
    private static final long SENDER_STACK_BYTES = 256 * 1024;

    private final Function<HostSnapshot, String> render;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final AtomicLong clientNumbers = new AtomicLong();

    /** @param render a snapshot as the data of one event (one line of JSON) */
    EventStream(Function<HostSnapshot, String> render) {
        this.render = render;
    }

    /** On the sampling thread: never blocks on a client. */
    @Override
    public synchronized void accept(HostSnapshot snapshot) {
        if (clients.isEmpty()) {
            return;
        }
        String data = render.apply(snapshot);
        for (Client client : clients) {
            client.offer(data);
        }
    }

    boolean full() {
        return clients.size() >= MAX_CLIENTS;
    }

    int clients() {
        return clients.size();
    }

    /** Serves {@code sse} from now on: {@code latest} at once if there is one, then every new snapshot. */
    void open(SseClient sse, Optional<HostSnapshot> latest) {
        Client client = new Client(sse);
        sse.onClose(client::stop);
        synchronized (this) { // no sample between the first event and the registration: none lost, none out of order
            latest.ifPresent(snapshot -> client.offer(render.apply(snapshot)));
            clients.add(client);
        }
        client.sender.start();
    }

    @Override
    public void close() {
        clients.forEach(Client::stop);
    }

    private final class Client {
        private final SseClient sse;
        private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_EVENTS);
        private final AtomicLong lost = new AtomicLong();
        private final Thread sender;

        Client(SseClient sse) {
            this.sse = sse;
            this.sender = new Thread(null, this::send, "api-stream-" + clientNumbers.incrementAndGet(), SENDER_STACK_BYTES);
            this.sender.setDaemon(true);
        }

        /** Never blocks: a full queue drops its oldest event, which is counted. */
        void offer(String data) {
            while (!queue.offer(data)) {
                if (queue.poll() != null) {
                    lost.incrementAndGet();
                }
            }
        }

        /** The sender: blocks on this client's socket only. */
        private void send() {
            try {
                while (!sse.terminated()) {
                    String data = queue.take();
                    long missed = lost.getAndSet(0);
                    if (missed > 0) {
                        sse.sendEvent("lost", "{\"lost_events\":" + missed + "}");
                    }
                    sse.sendEvent("snapshot", data);
                }
            } catch (InterruptedException e) {
                // stopped: the client went away or the server closes
            } finally {
                clients.remove(this);
                if (!sse.terminated()) {
                    sse.close();
                }
            }
        }

        void stop() {
            clients.remove(this);
            sender.interrupt();
        }
    }
}
