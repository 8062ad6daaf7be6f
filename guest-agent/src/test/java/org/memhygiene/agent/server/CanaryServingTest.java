package org.memhygiene.agent.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.SelfMaps;

/**
 * The canary commands through the real server on a unix socket, in this JVM, so that the locked memory
 * they plant shows in this process's VmLck.
 */
class CanaryServingTest {
    private static final String NONCE = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    private static final long WAIT_MILLIS = 30_000;
    private static final long PAGE = LinuxMemory.pageSizeBytes();

    @TempDir
    Path dir;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private ServerSocketChannel channel;
    private long lockedBeforeKib;

    @BeforeEach
    void start() throws IOException {
        lockedBeforeKib = SelfMaps.statusKib("VmLck");
        channel =
                TestAgent.serve(AgentServer.parseListen("unix:" + dir.resolve("agent.sock")), 1000, "test", scheduler);
    }

    @AfterEach
    void stop() throws IOException {
        channel.close();
        scheduler.shutdownNow();
    }

    private final class Peer implements AutoCloseable {
        private final SocketChannel socket;
        private final OutputStream out;
        private final BufferedReader in;
        private int id;

        Peer() throws IOException {
            socket = SocketChannel.open(StandardProtocolFamily.UNIX);
            socket.connect(channel.getLocalAddress());
            out = Channels.newOutputStream(socket);
            in = new BufferedReader(new InputStreamReader(Channels.newInputStream(socket), StandardCharsets.UTF_8));
        }

        JsonNode ask(String command, String arguments) throws IOException {
            int sent = ++id;
            out.write(("{\"protocol\":1,\"id\":" + sent + ",\"command\":\"" + command + "\",\"arguments\":" + arguments
                            + "}\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            JsonNode reply = Json.mapper().readTree(in.readLine());
            assertEquals(sent, reply.get("id").asInt(), reply.toString());
            return reply;
        }

        JsonNode plant(int pages, long leaseMillis) throws IOException {
            return ask(
                    "canary-plant",
                    "{\"nonce\":\"" + NONCE + "\",\"pages\":" + pages + ",\"lease_millis\":" + leaseMillis + "}");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private long lockedKib() throws IOException {
        return SelfMaps.statusKib("VmLck") - lockedBeforeKib;
    }

    /** Waits for the release that ends a session or a lease: an event, with a deadline for a broken agent. */
    private void awaitNothingLocked() throws Exception {
        long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000;
        while (lockedKib() != 0) {
            assertTrue(
                    System.nanoTime() < deadline, "still " + lockedKib() + " KiB locked after " + WAIT_MILLIS + " ms");
            Thread.sleep(20);
        }
    }

    private static String errorCode(JsonNode reply) {
        return reply.at("/error/code").asText(reply.toString());
    }

    @Test
    void plantTimeReleaseOverTheSocket() throws Exception {
        try (Peer host = new Peer()) {
            JsonNode hello = host.ask("hello", "{}");
            List<String> capabilities = Json.mapper().convertValue(hello.at("/result/capabilities"), List.class);
            assertTrue(
                    capabilities.containsAll(List.of("canary-plant", "canary-time", "canary-release")),
                    hello.toString());

            JsonNode planted = host.plant(128, 60_000).get("result");
            assertEquals(NONCE, planted.get("nonce").asText(), planted.toString());
            assertEquals(128, planted.get("canary_pages").asInt());
            assertEquals(128, planted.get("control_pages").asInt());
            assertEquals(PAGE, planted.get("page_size_bytes").asLong());
            assertEquals(
                    "sha256-xoshiro256starstar-v1", planted.get("derivation").asText());
            assertEquals(60_000, planted.get("lease_millis").asLong());
            assertEquals(256 * PAGE, planted.get("locked_bytes").asLong());
            assertEquals(256 * PAGE / 1024, lockedKib(), "planted and locked");

            JsonNode timings = host.ask("canary-time", "{\"nonce\":\"" + NONCE.toUpperCase() + "\"}")
                    .get("result");
            assertEquals(NONCE, timings.get("nonce").asText(), timings.toString());
            for (String kind : List.of("canary", "control")) {
                assertEquals(
                        IntStream.range(0, 128).boxed().toList(),
                        Json.mapper().convertValue(timings.at("/" + kind + "/page_indices"), List.class),
                        kind);
                assertEquals(128, timings.at("/" + kind + "/nanos").size());
                assertEquals(128, timings.at("/" + kind + "/summary/count").asInt());
                assertTrue(timings.at("/" + kind + "/summary/min_nanos").asLong()
                        <= timings.at("/" + kind + "/summary/median_nanos").asLong());
            }
            JsonNode again = host.ask("canary-time", "{\"nonce\":\"" + NONCE + "\"}");
            assertEquals("no_canary", errorCode(again));
            assertTrue(again.at("/error/message").asText().contains("was timed already"), again.toString());

            JsonNode released =
                    host.ask("canary-release", "{\"nonce\":\"" + NONCE + "\"}").get("result");
            assertEquals(256 * PAGE, released.get("released_bytes").asLong(), released.toString());
            assertEquals(0, lockedKib(), "released at once");
            JsonNode twice = host.ask("canary-release", "{\"nonce\":\"" + NONCE + "\"}");
            assertEquals("no_canary", errorCode(twice));
            assertTrue(
                    twice.at("/error/message").asText().endsWith("it was released by canary-release"),
                    twice.toString());
        }
    }

    @Test
    void oneProbeAtATimeAndOnlyItsSessionMayTouchIt() throws Exception {
        try (Peer first = new Peer();
                Peer second = new Peer()) {
            assertTrue(first.plant(16, 60_000).has("result"));
            JsonNode again = first.plant(16, 60_000);
            assertEquals("canary_busy", errorCode(again));
            assertTrue(again.at("/error/message").asText().contains("one probe at a time"), again.toString());
            JsonNode other = second.plant(16, 60_000);
            assertEquals("canary_busy", errorCode(other));
            assertTrue(other.at("/error/message").asText().contains("by another session"), other.toString());
            assertEquals("canary_busy", errorCode(second.ask("canary-time", "{\"nonce\":\"" + NONCE + "\"}")));
            assertEquals("canary_busy", errorCode(second.ask("canary-release", "{\"nonce\":\"" + NONCE + "\"}")));
            JsonNode wrongNonce = first.ask("canary-time", "{\"nonce\":\"" + "ff".repeat(16) + "\"}");
            assertEquals("no_canary", errorCode(wrongNonce));
            assertTrue(
                    wrongNonce.at("/error/message").asText().contains("the one planted has another nonce"),
                    wrongNonce.toString());
            assertEquals(32 * PAGE / 1024, lockedKib(), "one canary of 16 + 16 pages, no more");
            assertTrue(
                    first.ask("canary-release", "{\"nonce\":\"" + NONCE + "\"}").has("result"));
            assertTrue(second.plant(16, 60_000).has("result"), "after the release another session may plant");
        }
        awaitNothingLocked();
    }

    @Test
    void aDisconnectReleasesTheSessionsCanary() throws Exception {
        try (Peer host = new Peer()) {
            assertTrue(host.plant(64, 3_600_000).has("result"));
            assertEquals(128 * PAGE / 1024, lockedKib());
        }
        awaitNothingLocked();
        try (Peer next = new Peer()) {
            assertTrue(next.plant(64, 60_000).has("result"), "nothing is left planted to refuse the next probe");
        }
        awaitNothingLocked();
    }

    @Test
    void aLeaseThatRunsOutReleasesTheCanary() throws Exception {
        try (Peer host = new Peer()) {
            assertTrue(host.plant(64, 1_000).has("result"));
            assertEquals(128 * PAGE / 1024, lockedKib());
            awaitNothingLocked();
            JsonNode late = host.ask("canary-time", "{\"nonce\":\"" + NONCE + "\"}");
            assertEquals("no_canary", errorCode(late));
            assertTrue(
                    late.at("/error/message").asText().endsWith("it was released when its lease of 1000 ms ran out"),
                    late.toString());
        }
    }

    @Test
    void argumentsOutOfBoundsAreRefusedNamingThem() throws Exception {
        try (Peer host = new Peer()) {
            for (String[] bad : List.of(
                    new String[] {"{\"nonce\":\"0011\"}", "nonce = \"0011\": expected 32 to 64 hex digits"},
                    new String[] {"{\"nonce\":\"" + "g".repeat(32) + "\"}", "nonce = \"ggg"},
                    new String[] {"{\"nonce\":\"" + "a".repeat(33) + "\"}", "an even number"},
                    new String[] {"{\"nonce\":\"" + "ab".repeat(33) + "\"}", "(16 to 32 bytes)"},
                    new String[] {
                        "{\"nonce\":12345678901234567890123456789012}", "nonce must be a string of hex digits, was 1234"
                    },
                    new String[] {"{\"pages\":16}", "nonce must be a string of hex digits, was missing"},
                    new String[] {"{\"nonce\":\"" + NONCE + "\",\"pages\":0}", "pages must be a positive integer, was 0"
                    },
                    new String[] {
                        "{\"nonce\":\"" + NONCE + "\",\"pages\":\"many\"}",
                        "pages must be a positive integer, was \"many\""
                    },
                    new String[] {"{\"nonce\":\"" + NONCE + "\",\"pages\":100000}", "pages = 100000: expected 1 to "},
                    new String[] {
                        "{\"nonce\":\"" + NONCE + "\",\"lease_millis\":10}",
                        "lease_millis = 10: expected 1000 to 3600000"
                    },
                    new String[] {"{\"nonce\":\"" + NONCE + "\",\"lease_millis\":36000000}", "lease_millis = 36000000"},
                    new String[] {
                        "{\"nonce\":\"" + NONCE + "\",\"seed\":1}",
                        "canary-plant takes [lease_millis, nonce, pages], not \"seed\""
                    })) {
                JsonNode reply = host.ask("canary-plant", bad[0]);
                assertEquals("invalid_arguments", errorCode(reply), bad[0]);
                assertTrue(
                        reply.at("/error/message").asText().startsWith(bad[1])
                                || reply.at("/error/message").asText().contains(bad[1]),
                        reply.toString());
            }
            JsonNode extra = host.ask("canary-time", "{\"nonce\":\"" + NONCE + "\",\"pages\":1}");
            assertEquals(
                    "canary-time takes [nonce], not \"pages\"",
                    extra.at("/error/message").asText(),
                    extra.toString());
            assertEquals(0, lockedKib(), "nothing was planted");
        }
    }

    @Test
    void theScrubbersHeadroomRefusesACanaryThatWouldCrossIt() throws Exception {
        try (Peer host = new Peer()) {
            // The same policy the scrubber keeps: a headroom of 64 TiB leaves no machine room for a canary.
            assertTrue(host.ask("set-policy", "{\"min_headroom_bytes\":" + (64L << 40) + "}")
                    .has("result"));
            JsonNode refused = host.plant(16, 60_000);
            assertEquals("canary_refused", errorCode(refused));
            assertTrue(
                    refused.at("/error/message").asText().contains("would fall under the headroom of 67108864 MiB"),
                    refused.toString());
            assertEquals(0, lockedKib());
        }
    }
}
