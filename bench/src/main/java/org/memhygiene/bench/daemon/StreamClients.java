package org.memhygiene.bench.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.memhygiene.core.json.Json;

/**
 * Issue 13's first fault against the shipped daemon: `bin/memhygiene run --scenario FILE` in its own
 * process, sampling every second, first alone (the reference, same run), then with STALLED stream clients
 * that ask for /api/v1/stream with a 4 KiB receive buffer and never read, and READING clients that read
 * every event. Over each window it measures how many samples the daemon took per interval (the samples
 * counter of /api/v1/status), the daemon's VmRSS, and what the reading clients received (snapshot and
 * lost events, counted on one selector thread). The target (docs/RELIABILITY.md): at least 0.9 samples
 * per interval with 4 stalled and 500 reading clients.
 *
 * <pre>StreamClients LAUNCHER SCENARIO [STALLED [READING [WINDOW_SECONDS]]]</pre>
 */
public final class StreamClients {
    private static final byte[] SNAPSHOT = "\nevent: snapshot\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LOST = "\nevent: lost\n".getBytes(StandardCharsets.US_ASCII);
    private static final int PORT = 9543;
    private static final long INTERVAL_MILLIS = 1000;

    private StreamClients() {}

    public static void main(String[] args) throws Exception {
        String launcher = args[0];
        Path scenario = Path.of(args[1]);
        int stalledCount = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int readingCount = args.length > 3 ? Integer.parseInt(args[3]) : 500;
        int windowSeconds = args.length > 4 ? Integer.parseInt(args[4]) : 60;
        Path dir = Files.createTempDirectory("stream-clients");
        Path config = Files.writeString(
                dir.resolve("daemon.yaml"),
                "interval: " + INTERVAL_MILLIS + "ms\ndry_run: true\napi:\n  port: " + PORT + "\nhistory:\n  path: "
                        + dir.resolve("history") + "\n");
        Process daemon = new ProcessBuilder(
                        launcher, "run", "--config", config.toString(), "--scenario", scenario.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("daemon.log").toFile())
                .start();
        List<Socket> stalled = new ArrayList<>();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI base = URI.create("http://127.0.0.1:" + PORT);
            awaitFirstSample(http, base, dir);
            Thread.sleep(10_000); // warm-up: the JIT and the first policy decision
            double rssStart = rssMib(daemon.pid());
            double reference = samplesPerInterval(http, base, windowSeconds);
            double rssReference = rssMib(daemon.pid());

            for (int i = 0; i < stalledCount; i++) {
                Socket socket = new Socket();
                socket.setReceiveBufferSize(4096);
                socket.connect(new InetSocketAddress("127.0.0.1", PORT));
                socket.getOutputStream()
                        .write(("GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                stalled.add(socket);
            }
            try (Readers readers = new Readers(readingCount)) {
                Thread.sleep(5_000); // every client connected and past its first event
                readers.mark();
                double faulted = samplesPerInterval(http, base, windowSeconds);
                double rssFault = rssMib(daemon.pid());
                long[] snapshots = readers.snapshotsPerClient();
                long lost = readers.lostEvents();
                System.out.printf(
                        Locale.ROOT,
                        "daemon: %s --scenario %s, sampling every %d ms, windows of %d s%n",
                        launcher,
                        scenario.getFileName(),
                        INTERVAL_MILLIS,
                        windowSeconds);
                System.out.printf(
                        Locale.ROOT,
                        "reference, no stream clients: %.3f samples per interval (%.1f per minute), VmRSS %.1f -> %.1f MiB%n",
                        reference,
                        reference * 60_000 / INTERVAL_MILLIS,
                        rssStart,
                        rssReference);
                System.out.printf(
                        Locale.ROOT,
                        "%d stalled + %d reading stream clients: %.3f samples per interval (%.1f per minute,"
                                + " %.3fx the reference), VmRSS %.1f MiB%n",
                        stalledCount,
                        readingCount,
                        faulted,
                        faulted * 60_000 / INTERVAL_MILLIS,
                        faulted / reference,
                        rssFault);
                System.out.printf(
                        Locale.ROOT,
                        "reading clients: snapshot events per client over the window min %d, median %d, max %d"
                                + " (%d expected); lost events told to them %d; connections closed by the daemon %d%n",
                        snapshots[0],
                        snapshots[snapshots.length / 2],
                        snapshots[snapshots.length - 1],
                        windowSeconds * 1000 / INTERVAL_MILLIS,
                        lost,
                        readers.closed());
            }
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
            daemon.destroy();
            daemon.waitFor();
        }
    }

    private static void awaitFirstSample(HttpClient http, URI base, Path dir) throws Exception {
        for (int i = 0; i < 600; i++) {
            try {
                if (http.send(
                                        HttpRequest.newBuilder(base.resolve("/api/v1/snapshot"))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(
                "the daemon never served a snapshot: " + Files.readString(dir.resolve("daemon.log")));
    }

    /** Samples taken over the window per configured interval: 1.0 is every one. */
    private static double samplesPerInterval(HttpClient http, URI base, int windowSeconds) throws Exception {
        long before = samples(http, base);
        long start = System.nanoTime();
        Thread.sleep(windowSeconds * 1000L);
        long after = samples(http, base);
        double intervals = (System.nanoTime() - start) / 1e6 / INTERVAL_MILLIS;
        return (after - before) / intervals;
    }

    private static long samples(HttpClient http, URI base) throws Exception {
        JsonNode status = Json.mapper()
                .readTree(http.send(
                                HttpRequest.newBuilder(base.resolve("/api/v1/status"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body());
        return status.get("samples").asLong();
    }

    private static double rssMib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        }
        throw new IOException("no VmRSS for " + pid);
    }

    /** Stream clients that read everything, on one selector thread, counting the events they get. */
    private static final class Readers implements AutoCloseable {
        private final Selector selector = Selector.open();
        private final List<Client> clients = new ArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        private static final class Client {
            final SocketChannel channel;
            int snapshotMatched;
            int lostMatched;
            volatile long snapshots;
            volatile long lost;
            long snapshotsAtMark;
            long lostAtMark;
            volatile boolean closed;

            Client(SocketChannel channel) {
                this.channel = channel;
            }
        }

        Readers(int count) throws IOException {
            for (int i = 0; i < count; i++) {
                SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", PORT));
                channel.write(ByteBuffer.wrap(
                        ("GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII)));
                channel.configureBlocking(false);
                Client client = new Client(channel);
                channel.register(selector, SelectionKey.OP_READ, client);
                clients.add(client);
            }
            thread = new Thread(this::run, "stream-readers");
            thread.start();
        }

        private void run() {
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            try {
                while (running.get()) {
                    selector.select(200);
                    for (SelectionKey key : selector.selectedKeys()) {
                        Client client = (Client) key.attachment();
                        buffer.clear();
                        int read;
                        try {
                            read = client.channel.read(buffer);
                        } catch (IOException e) {
                            read = -1;
                        }
                        if (read < 0) {
                            client.closed = true;
                            key.cancel();
                            continue;
                        }
                        for (int i = 0; i < read; i++) {
                            byte b = buffer.get(i);
                            client.snapshotMatched = step(client.snapshotMatched, b, SNAPSHOT);
                            if (client.snapshotMatched == SNAPSHOT.length) {
                                client.snapshots++;
                                client.snapshotMatched = 1; // the closing newline may open the next event
                            }
                            client.lostMatched = step(client.lostMatched, b, LOST);
                            if (client.lostMatched == LOST.length) {
                                client.lost++;
                                client.lostMatched = 1;
                            }
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The pattern's only border is its leading newline, so a mismatch restarts at 0 or 1. */
        private static int step(int matched, byte b, byte[] pattern) {
            if (pattern[matched] == b) {
                return matched + 1;
            }
            return b == '\n' ? 1 : 0;
        }

        /** The window starts: what each client received so far is not counted. */
        void mark() {
            clients.forEach(c -> {
                c.snapshotsAtMark = c.snapshots;
                c.lostAtMark = c.lost;
            });
        }

        long[] snapshotsPerClient() {
            long[] counts = clients.stream()
                    .mapToLong(c -> c.snapshots - c.snapshotsAtMark)
                    .toArray();
            Arrays.sort(counts);
            return counts;
        }

        long lostEvents() {
            return clients.stream().mapToLong(c -> c.lost - c.lostAtMark).sum();
        }

        long closed() {
            return clients.stream().filter(c -> c.closed).count();
        }

        @Override
        public void close() throws Exception {
            running.set(false);
            thread.join();
            for (Client client : clients) {
                client.channel.close();
            }
            selector.close();
        }
    }
}
