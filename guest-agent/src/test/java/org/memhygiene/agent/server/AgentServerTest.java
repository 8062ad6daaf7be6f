package org.memhygiene.agent.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.json.Json;

/** The agent server over real sockets, with well-formed and hostile peers. */
class AgentServerTest {
    @TempDir
    Path dir;

    private ServerSocketChannel channel;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    private SocketAddress start(SocketAddress address, int maxPerSecond) throws IOException {
        channel = TestAgent.serve(address, maxPerSecond, "test", scheduler);
        return channel.getLocalAddress();
    }

    @AfterEach
    void stop() throws IOException {
        scheduler.shutdownNow();
        if (channel != null) {
            channel.close();
        }
    }

    private record Peer(SocketChannel channel, OutputStream out, BufferedReader in) implements AutoCloseable {
        static Peer connect(SocketAddress address) throws IOException {
            SocketChannel channel = address instanceof InetSocketAddress
                    ? SocketChannel.open(address)
                    : SocketChannel.open(StandardProtocolFamily.UNIX);
            if (!channel.isConnected()) {
                channel.connect(address);
            }
            return new Peer(
                    channel,
                    Channels.newOutputStream(channel),
                    new BufferedReader(
                            new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8)));
        }

        JsonNode ask(String line) throws IOException {
            send(line + "\n");
            return Json.mapper().readTree(in.readLine());
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    @Test
    void answersEveryCommandOverAUnixSocket() throws Exception {
        SocketAddress address = start(AgentServer.parseListen("unix:" + dir.resolve("agent.sock")), 50);
        try (Peer peer = Peer.connect(address)) {
            JsonNode hello = peer.ask("{\"protocol\":1,\"id\":1,\"command\":\"hello\"}");
            assertEquals(1, hello.get("id").asInt());
            assertEquals(1, hello.at("/result/protocol_version").asInt());
            assertTrue(hello.at("/result/page_size_bytes").asLong() > 0);
            assertEquals(
                    "guest.test",
                    peer.ask("{\"protocol\":1,\"id\":\"p\",\"command\":\"posture\"}")
                            .at("/result/0/id")
                            .asText());
            assertTrue(peer.ask("{\"protocol\":1,\"id\":2,\"command\":\"stats\"}")
                            .at("/result/mem_total_bytes")
                            .asLong()
                    > 0);
            JsonNode scrub =
                    peer.ask("{\"protocol\":1,\"id\":3,\"command\":\"scrub\",\"arguments\":{\"max_bytes\":8388608}}");
            assertEquals("COMPLETED", scrub.at("/result/outcome").asText(), scrub.toString());
            assertEquals(8388608, scrub.at("/result/bytes_zeroed").asLong());
            assertEquals(
                    1,
                    peer.ask("{\"protocol\":1,\"id\":4,\"command\":\"stats\"}")
                            .at("/result/scrub/scrubs_run")
                            .asLong());
        }
    }

    @Test
    void hostileInputGetsErrorRepliesAndTheServerGoesOn() throws Exception {
        SocketAddress address = start(AgentServer.parseListen("tcp:127.0.0.1:0"), 1000);
        try (Peer peer = Peer.connect(address)) {
            assertEquals(
                    "invalid_json",
                    peer.ask("\u0001garbage{{").at("/error/code").asText());
            assertEquals(
                    "unknown_command",
                    peer.ask("{\"protocol\":1,\"id\":5,\"command\":\"reboot\"}")
                            .at("/error/code")
                            .asText());
            JsonNode version = peer.ask("{\"protocol\":9,\"id\":6,\"command\":\"hello\"}");
            assertEquals("unsupported_version", version.at("/error/code").asText());
            assertEquals(6, version.get("id").asInt(), "errors carry the request's id");
            assertEquals(
                    "invalid_request",
                    peer.ask("{\"protocol\":1,\"id\":7,\"command\":\"hello\",\"x\":1}")
                            .at("/error/code")
                            .asText());
            assertEquals(
                    "invalid_arguments",
                    peer.ask("{\"protocol\":1,\"id\":8,\"command\":\"scrub\",\"arguments\":{\"max_bytes\":-1}}")
                            .at("/error/code")
                            .asText());
            peer.out().write(new byte[] {(byte) 0xff, (byte) 0xfe, '\n'});
            assertEquals(
                    "invalid_utf8",
                    Json.mapper()
                            .readTree(peer.in().readLine())
                            .at("/error/code")
                            .asText());
            // 10 MiB without a newline, then a newline: one line_too_long, nothing buffered beyond 64 KiB.
            byte[] mib = new byte[1 << 20];
            Arrays.fill(mib, (byte) 'a');
            for (int i = 0; i < 10; i++) {
                peer.out().write(mib);
            }
            JsonNode tooLong = peer.ask("");
            assertEquals("line_too_long", tooLong.at("/error/code").asText());
            assertEquals(
                    "test",
                    peer.ask("{\"protocol\":1,\"id\":9,\"command\":\"hello\"}")
                            .at("/result/agent_version")
                            .asText());
            // One request per line, each key once: the last "command" no longer wins, a second object is not dropped.
            JsonNode twice = peer.ask("{\"protocol\":1,\"id\":10,\"command\":\"hello\",\"command\":\"scrub\"}");
            assertEquals("invalid_json", twice.at("/error/code").asText(), twice.toString());
            assertTrue(
                    twice.at("/error/message").asText().startsWith("not JSON: duplicate key 'command'"),
                    twice.toString());
            JsonNode two = peer.ask(
                    "{\"protocol\":1,\"id\":11,\"command\":\"hello\"} {\"protocol\":1,\"id\":12,\"command\":\"scrub\"}");
            assertEquals("invalid_json", two.at("/error/code").asText(), two.toString());
            assertTrue(
                    two.at("/error/message").asText().startsWith("not JSON: trailing content after the document"),
                    two.toString());
            assertEquals(
                    13,
                    peer.ask("{\"protocol\":1,\"id\":13,\"command\":\"hello\"}")
                            .get("id")
                            .asInt(),
                    "nothing was left over");
        }
    }

    @Test
    void aFloodIsRateLimitedAndADisconnectMidLineHarmsNoOne() throws Exception {
        SocketAddress address = start(AgentServer.parseListen("unix:" + dir.resolve("flood.sock")), 50);
        try (Peer flood = Peer.connect(address)) {
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 2000; i++) {
                burst.append("{\"protocol\":1,\"id\":").append(i).append(",\"command\":\"hello\"}\n");
            }
            flood.send(burst.toString());
            int limited = 0;
            for (int i = 0; i < 2000; i++) {
                JsonNode reply = Json.mapper().readTree(flood.in().readLine());
                assertEquals(
                        i, reply.get("id").asInt(), "every reply carries its request's id, rate_limited too: " + reply);
                if (reply.at("/error/code").asText().equals("rate_limited")) {
                    limited++;
                }
            }
            assertTrue(limited >= 2000 - 50 * 3, "most of a 2000-request burst is refused: " + limited);
        }
        try (Peer rude = Peer.connect(address)) {
            rude.send("{\"protocol\":1,\"id\":1,\"comm");
        }
        try (Peer next = Peer.connect(address)) {
            assertEquals(
                    1,
                    next.ask("{\"protocol\":1,\"id\":1,\"command\":\"hello\"}")
                            .at("/result/protocol_version")
                            .asInt());
        }
    }

    @Test
    void idlePeersAndPeersThatDoNotReadLoseTheirPlaceAfterTheIdleTimeout() throws Exception {
        channel = TestAgent.serve(
                AgentServer.parseListen("unix:" + dir.resolve("idle.sock")),
                1000,
                "test",
                scheduler,
                Duration.ofMillis(500));
        SocketAddress address = channel.getLocalAddress();
        List<Peer> holders = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                holders.add(Peer.connect(address)); // connects and says nothing
            }
            Peer deaf = Peer.connect(address);
            holders.add(deaf);
            // Asks and asks, reads nothing: the agent's replies fill its socket and the agent's write waits.
            StringBuilder requests = new StringBuilder();
            for (int i = 0; i < 900; i++) {
                requests.append("{\"protocol\":1,\"id\":").append(i).append(",\"command\":\"posture\"}\n");
            }
            deaf.send(requests.toString());
            // Before, all four held their place for good and every further peer was closed on accept. Each is
            // now closed by the agent (end of stream, or a reset); 20 s is a failure bound, the timeout is 0.5 s.
            ExecutorService reader = Executors.newSingleThreadExecutor();
            try {
                for (Peer holder : holders) {
                    Future<Boolean> closed = reader.submit(() -> {
                        byte[] buffer = new byte[65536];
                        InputStream in = Channels.newInputStream(holder.channel());
                        try {
                            while (in.read(buffer) >= 0) {
                                // what the deaf peer was sent before the agent gave up on it
                            }
                        } catch (SocketException reset) {
                            // Linux resets a unix stream peer when the other end closes with requests still
                            // unread in its queue (net/unix/af_unix.c, unix_release_sock): the deaf peer's
                            // close, as much as end of stream is. Anything else is a failure.
                            assertEquals("Connection reset", reset.getMessage(), "how the agent closed the peer");
                        }
                        return true;
                    });
                    assertTrue(closed.get(20, TimeUnit.SECONDS));
                }
            } finally {
                reader.shutdownNow();
            }
            try (Peer next = Peer.connect(address)) {
                assertEquals(
                        1,
                        next.ask("{\"protocol\":1,\"id\":1,\"command\":\"hello\"}")
                                .at("/result/protocol_version")
                                .asInt());
            }
        } finally {
            for (Peer holder : holders) {
                holder.close();
            }
        }
    }

    @Test
    void aUnixListenPathIsTakenOnlyFromAStaleSocketOfOurOwn() throws Exception {
        AgentServer server = new AgentServer(null, 1, AgentServer.IDLE_TIMEOUT);
        Path file = Files.writeString(dir.resolve("agent.sock"), "an admin's file");
        IOException onFile =
                assertThrows(IOException.class, () -> server.bind(AgentServer.parseListen("unix:" + file)));
        assertEquals(
                "cannot listen on unix:" + file + ": it exists and is a regular file; the agent removes only a stale"
                        + " socket of its own. Remove it, or listen elsewhere",
                onFile.getMessage());
        assertEquals("an admin's file", Files.readString(file), "the file is untouched");
        Path directory = Files.createDirectory(dir.resolve("agent.d"));
        IOException onDirectory =
                assertThrows(IOException.class, () -> server.bind(AgentServer.parseListen("unix:" + directory)));
        assertTrue(onDirectory.getMessage().contains("it exists and is a directory"), onDirectory.getMessage());
        assertTrue(Files.isDirectory(directory));
        Path link = Files.createSymbolicLink(dir.resolve("link.sock"), file);
        assertTrue(assertThrows(IOException.class, () -> server.bind(AgentServer.parseListen("unix:" + link)))
                .getMessage()
                .contains("it exists and is a symbolic link"));

        // A socket something listens on is refused; once that one is gone, its stale file is replaced.
        Path socket = dir.resolve("live.sock");
        ServerSocketChannel live = server.bind(AgentServer.parseListen("unix:" + socket));
        IOException taken =
                assertThrows(IOException.class, () -> server.bind(AgentServer.parseListen("unix:" + socket)));
        assertTrue(taken.getMessage().contains("a process is listening on it"), taken.getMessage());
        live.close(); // Java leaves the socket file behind, as a killed agent does
        assertTrue(Files.exists(socket), "a stale socket");
        try (ServerSocketChannel again = server.bind(AgentServer.parseListen("unix:" + socket))) {
            assertTrue(again.isOpen());
        }
    }

    @Test
    void setPolicyAppliesAllOrNothingAndStatsShowsIt() throws Exception {
        SocketAddress address = start(AgentServer.parseListen("unix:" + dir.resolve("policy.sock")), 50);
        try (Peer peer = Peer.connect(address)) {
            JsonNode set = peer.ask("{\"protocol\":1,\"id\":1,\"command\":\"set-policy\",\"arguments\":"
                    + "{\"min_headroom_bytes\":536870912,\"pressure_threshold_percent\":5.5}}");
            assertEquals(536870912L, set.at("/result/min_headroom_bytes").asLong(), set.toString());
            assertEquals(5.5, set.at("/result/pressure_threshold_percent").asDouble());
            assertEquals(10, set.at("/result/headroom_percent_of_total").asInt(), "fields not sent keep their value");

            JsonNode tooLow = peer.ask("{\"protocol\":1,\"id\":2,\"command\":\"set-policy\",\"arguments\":"
                    + "{\"max_rate_bytes_per_second\":0,\"min_headroom_bytes\":1024}}");
            assertEquals("invalid_arguments", tooLow.at("/error/code").asText());
            assertTrue(
                    tooLow.at("/error/message").asText().startsWith("min_headroom_bytes = 1024: expected at least"),
                    tooLow.toString());
            JsonNode unknown =
                    peer.ask("{\"protocol\":1,\"id\":3,\"command\":\"set-policy\",\"arguments\":{\"nice\":-20}}");
            assertTrue(
                    unknown.at("/error/message").asText().contains("unknown scrub policy field \"nice\""),
                    unknown.toString());
            JsonNode text = peer.ask("{\"protocol\":1,\"id\":4,\"command\":\"set-policy\",\"arguments\":"
                    + "{\"periodic_interval_millis\":\"5s\"}}");
            assertEquals("invalid_arguments", text.at("/error/code").asText(), "the wire takes numbers, not \"5s\"");

            JsonNode stats = peer.ask("{\"protocol\":1,\"id\":5,\"command\":\"stats\"}");
            assertEquals(
                    536870912L, stats.at("/result/policy/min_headroom_bytes").asLong(), stats.toString());
            assertEquals(
                    268435456L,
                    stats.at("/result/policy/max_rate_bytes_per_second").asLong(),
                    "the refused request changed nothing");
        }
    }

    @Test
    void aScrubRequestMayLowerTheRateForItselfOnly() throws Exception {
        SocketAddress address = start(AgentServer.parseListen("unix:" + dir.resolve("rate.sock")), 50);
        try (Peer peer = Peer.connect(address)) {
            // 16 MiB at 32 MiB/s takes about half a second; the default cap (256 MiB/s) would take 60 ms.
            JsonNode scrub = peer.ask("{\"protocol\":1,\"id\":1,\"command\":\"scrub\",\"arguments\":"
                    + "{\"max_bytes\":16777216,\"max_rate_bytes_per_second\":33554432}}");
            assertEquals("COMPLETED", scrub.at("/result/outcome").asText(), scrub.toString());
            assertTrue(scrub.at("/result/duration_millis").asLong() >= 350, scrub.toString());
            assertEquals(
                    268435456L,
                    peer.ask("{\"protocol\":1,\"id\":2,\"command\":\"stats\"}")
                            .at("/result/policy/max_rate_bytes_per_second")
                            .asLong(),
                    "the policy is unchanged");
            assertEquals(
                    "invalid_arguments",
                    peer.ask("{\"protocol\":1,\"id\":3,\"command\":\"scrub\",\"arguments\":"
                                    + "{\"max_rate_bytes_per_second\":\"fast\"}}")
                            .at("/error/code")
                            .asText());
        }
    }

    @Test
    void listenAddressesAreCheckedAndLoopbackOnly() {
        assertThrows(IllegalArgumentException.class, () -> AgentServer.parseListen("tcp:0.0.0.0:4000"));
        assertThrows(IllegalArgumentException.class, () -> AgentServer.parseListen("udp:1"));
        assertThrows(IllegalArgumentException.class, () -> AgentServer.parseListen("tcp:127.0.0.1:99999"));
    }
}
