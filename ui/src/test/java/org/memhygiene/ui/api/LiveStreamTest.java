package org.memhygiene.ui.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's stream client takes the controller's "lost" event (docs/API.md, "The live stream") in
 * its stride: the snapshots around it arrive, and the stream is not taken for broken. The controller's
 * side, a real client that stops reading and is then told what it lost, is SimulatedHostDaemonTest's;
 * here the server is a scripted one so that the event comes exactly between two snapshots.
 */
class LiveStreamTest {
    @Test
    void aLostEventBetweenSnapshotsNeitherStopsNorBreaksTheStream() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/v1/stream", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(("event: snapshot\ndata: {\"n\":1}\n\nevent: lost\ndata: {\"lost_events\":12}\n\n"
                                + "event: snapshot\ndata: {\"n\":2}\n\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                done.await(60, TimeUnit.SECONDS); // the stream stays open, as the controller's does
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        List<JsonNode> snapshots = new CopyOnWriteArrayList<>();
        List<String> losses = new CopyOnWriteArrayList<>();
        CountDownLatch two = new CountDownLatch(2);
        try (ControllerClient client = new ControllerClient(
                        URI.create("http://127.0.0.1:" + server.getAddress().getPort()), Optional.empty());
                LiveStream stream = new LiveStream(
                        client,
                        new LiveStream.Listener() {
                            @Override
                            public void snapshot(JsonNode vmsDocument) {
                                snapshots.add(vmsDocument);
                                two.countDown();
                            }

                            @Override
                            public void lost(String reason, Duration retryIn, int attempt) {
                                losses.add(reason);
                            }
                        },
                        Duration.ofSeconds(30))) {
            stream.start();
            assertTrue(two.await(20, TimeUnit.SECONDS), "snapshots: " + snapshots + ", losses: " + losses);
            assertEquals(
                    List.of(1, 2),
                    snapshots.stream().map(s -> s.get("n").asInt()).toList());
            assertEquals(List.of(), losses, "a lost event is not a lost connection");
        } finally {
            done.countDown();
            server.stop(0);
        }
    }
}
