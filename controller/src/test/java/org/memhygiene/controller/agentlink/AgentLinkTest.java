package org.memhygiene.controller.agentlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.TestClock;
import org.memhygiene.core.agent.AgentLinkException;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.agent.ScrubReport;

/**
 * The agent link against the real agent (its server code on a unix socket) and against hostile fake
 * guests. A fake guest is right here: "a guest that sends garbage" cannot be produced with the real
 * agent, which is the point of it.
 */
class AgentLinkTest {
    private static final Duration READ_TIMEOUT = Duration.ofMillis(800);

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeLater) {
            c.close();
        }
        scheduler.shutdownNow();
    }

    private void realAgent(Path socket) throws IOException {
        closeLater.add(TestAgent.serve(UnixDomainSocketAddress.of(socket), 50, "test-agent", scheduler));
    }

    /** How a fake guest answers each request line. */
    interface Behaviour {
        void answer(String requestLine, OutputStream out) throws IOException, InterruptedException;
    }

    private void fakeGuest(Path socket, Behaviour behaviour) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        closeLater.add(server);
        Thread thread = new Thread(() -> {
            while (server.isOpen()) {
                try (SocketChannel peer = server.accept()) {
                    InputStream in = Channels.newInputStream(peer);
                    OutputStream out = Channels.newOutputStream(peer);
                    StringBuilder line = new StringBuilder();
                    int c;
                    while ((c = in.read()) >= 0) {
                        if (c == '\n') {
                            behaviour.answer(line.toString(), out);
                            line.setLength(0);
                        } else {
                            line.append((char) c);
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    // the link hung up on us, as it should
                }
            }
        });
        thread.setDaemon(true);
        thread.start();
    }

    private static String idOf(String request) {
        return request.replaceAll(".*\"id\":(\\d+).*", "$1");
    }

    @Test
    void samplesTheRealAgentAndScrubsThroughIt() throws Exception {
        Path socket = dir.resolve("good.sock");
        realAgent(socket);
        try (AgentLink link = new AgentLink(socket, READ_TIMEOUT, Clock.systemUTC())) {
            AgentSample sample = link.sample();
            assertEquals(AgentStatus.OK, sample.status(), sample.problem());
            assertEquals("test-agent", sample.hello().orElseThrow().agentVersion());
            assertTrue(sample.stats().orElseThrow().memTotalBytes() > 0);
            assertEquals("guest.test", sample.posture().get(0).id());
            ScrubReport report = link.scrub(8L << 20, Duration.ofSeconds(30));
            assertEquals(ScrubReport.Outcome.COMPLETED, report.outcome(), report.toString());
            assertEquals(1, link.sample().stats().orElseThrow().scrub().scrubsRun(), "the same agent counted it");
            assertEquals(1, link.ping().protocolVersion());
        }
    }

    @Test
    void hostileGuestsCostOnlyTheirOwnRowAndNoMoreThanTheReadTimeout() throws Exception {
        Map<String, Optional<Path>> sockets = new LinkedHashMap<>();
        sockets.put("good", Optional.of(dir.resolve("good.sock")));
        realAgent(sockets.get("good").get());
        sockets.put("garbage", Optional.of(dir.resolve("garbage.sock")));
        fakeGuest(
                sockets.get("garbage").get(),
                (request, out) -> out.write("\u0001\u0002 not json {{{\n".getBytes(StandardCharsets.UTF_8)));
        sockets.put("huge", Optional.of(dir.resolve("huge.sock")));
        fakeGuest(sockets.get("huge").get(), (request, out) -> {
            byte[] mib = new byte[1 << 20];
            Arrays.fill(mib, (byte) '[');
            for (int i = 0; i < 10; i++) {
                out.write(mib); // 10 MiB in one line
            }
            out.write('\n');
        });
        sockets.put("slow", Optional.of(dir.resolve("slow.sock")));
        fakeGuest(sockets.get("slow").get(), (request, out) -> {
            for (byte b : ("{\"protocol\":1,\"id\":" + idOf(request) + ",\"result\":{}}\n")
                    .getBytes(StandardCharsets.UTF_8)) {
                out.write(b);
                out.flush();
                Thread.sleep(100);
            }
        });
        sockets.put("silent", Optional.of(dir.resolve("silent.sock")));
        fakeGuest(sockets.get("silent").get(), (request, out) -> {});
        sockets.put("flood", Optional.of(dir.resolve("flood.sock")));
        fakeGuest(sockets.get("flood").get(), (request, out) -> {
            for (int i = 0; i < 1000; i++) {
                out.write(("{\"protocol\":1,\"id\":999999,\"result\":{}}\n").getBytes(StandardCharsets.UTF_8));
            }
        });
        sockets.put("schema", Optional.of(dir.resolve("schema.sock")));
        fakeGuest(
                sockets.get("schema").get(),
                (request, out) -> out.write(
                        ("{\"protocol\":1,\"id\":" + idOf(request) + ",\"result\":{\"protocol_version\":\"one\"}}\n")
                                .getBytes(StandardCharsets.UTF_8)));
        sockets.put("absent", Optional.of(dir.resolve("nobody-listens.sock")));
        sockets.put("no-channel", Optional.empty());

        try (AgentLinks links = new AgentLinks(READ_TIMEOUT, Duration.ZERO, 16, Clock.systemUTC())) {
            long start = System.nanoTime();
            Map<String, AgentSample> samples = links.sampleAll(sockets);
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertEquals(
                    AgentStatus.OK,
                    samples.get("good").status(),
                    samples.get("good").problem());
            assertTrue(samples.get("good").stats().isPresent());
            assertStatus(samples, "garbage", AgentStatus.MISBEHAVING, "not JSON");
            assertStatus(samples, "huge", AgentStatus.MISBEHAVING, "longer than 65536 bytes");
            assertStatus(samples, "slow", AgentStatus.TIMEOUT, "no reply within the read timeout");
            assertStatus(samples, "silent", AgentStatus.TIMEOUT, "no reply within the read timeout");
            assertStatus(samples, "flood", AgentStatus.MISBEHAVING, "more than 16 lines that were not the reply");
            assertStatus(samples, "schema", AgentStatus.MISBEHAVING, "does not fit the protocol");
            assertStatus(samples, "absent", AgentStatus.UNREACHABLE, "cannot connect");
            assertEquals(AgentStatus.NO_CHANNEL, samples.get("no-channel").status());
            // In parallel, each bounded: the whole sample is not the sum of the bad guests' timeouts.
            assertTrue(took.compareTo(READ_TIMEOUT.multipliedBy(2)) < 0, "the host sample took " + took);
            // The event is recorded for the posture view.
            assertTrue(
                    samples.get("garbage").events().stream().anyMatch(e -> e.status() == AgentStatus.MISBEHAVING),
                    samples.get("garbage").events().toString());
        }
    }

    private static void assertStatus(Map<String, AgentSample> samples, String vm, AgentStatus status, String problem) {
        AgentSample sample = samples.get(vm);
        assertEquals(status, sample.status(), vm + ": " + sample.problem());
        assertTrue(sample.problem().contains(problem), vm + ": " + sample.problem());
    }

    /** The real agent in its own process, as a VM is: killing it closes every connection at once. */
    private Process agentProcess(Path socket) throws Exception {
        Process agent = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "org.memhygiene.agent.AgentMain",
                        "--listen",
                        "unix:" + socket)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        closeLater.add(agent::destroyForcibly);
        TestAgent.connectWhenListening(socket).close();
        return agent;
    }

    @Test
    void reconnectsWithBackoffWhenTheVmRestarts() throws Exception {
        Path socket = dir.resolve("restart.sock");
        TestClock clock = new TestClock();
        Process first = agentProcess(socket);
        try (AgentLink link = new AgentLink(socket, Duration.ofSeconds(5), clock)) {
            assertEquals(AgentStatus.OK, link.sample().status());
            first.destroyForcibly().waitFor(); // the VM goes away
            Files.deleteIfExists(socket);
            AgentSample down = link.sample();
            assertEquals(AgentStatus.UNREACHABLE, down.status(), down.problem());
            agentProcess(socket); // the VM is back
            assertEquals(AgentStatus.BACKING_OFF, link.sample().status(), "no reconnect before the backoff ends");
            clock.now = clock.now.plusSeconds(2);
            AgentSample up = link.sample();
            assertEquals(AgentStatus.OK, up.status(), up.problem());
            assertEquals(
                    2,
                    up.events().stream()
                            .filter(e -> e.detail().startsWith("connected"))
                            .count(),
                    up.events().toString());
        }
    }

    @Test
    void aFreshSampleIsReusedUntilTheRefreshIntervalPasses() throws Exception {
        Path socket = dir.resolve("refresh.sock");
        realAgent(socket);
        TestClock clock = new TestClock();
        Map<String, Optional<Path>> sockets = Map.of("vm", Optional.of(socket));
        try (AgentLinks links = new AgentLinks(READ_TIMEOUT, Duration.ofSeconds(5), 4, clock)) {
            AgentSample first = links.sampleAll(sockets).get("vm");
            assertEquals(AgentStatus.OK, first.status(), first.problem());
            clock.now = clock.now.plusSeconds(4);
            assertEquals(
                    first,
                    links.sampleAll(sockets).get("vm"),
                    "within the interval: the same sample, the agent not asked");
            clock.now = clock.now.plusSeconds(2);
            AgentSample second = links.sampleAll(sockets).get("vm");
            assertEquals(clock.now, second.sampledAt(), "after the interval: asked again");
        }
    }

    /**
     * A guest agent that reopens its port loses what the host sent while it closed (virtio_console.c discards
     * a port's data at release), which a real guest does only when a new connection lands in that instant:
     * a fake guest that drops the first line stands in for it. The hello is sent again and answered.
     */
    @Test
    void aHelloLostWhileTheGuestReopensItsPortIsSentAgain() throws Exception {
        Path socket = dir.resolve("reopening.sock");
        List<String> received = Collections.synchronizedList(new ArrayList<>());
        fakeGuest(socket, (request, out) -> {
            received.add(request);
            if (received.size() == 1) {
                return; // discarded by the guest's kernel as the agent closed its port
            }
            String reply = request.contains("\"hello\"")
                    ? "{\"protocol\":1,\"id\":" + idOf(request)
                            + ",\"result\":{\"protocol_version\":1,\"agent_version\":\"reopened\",\"page_size_bytes\":4096,\"capabilities\":[]}}"
                    : "{\"protocol\":1,\"id\":" + idOf(request)
                            + ",\"error\":{\"code\":\"invalid_arguments\",\"message\":\"no\"}}";
            out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
        });
        // A read timeout far above the first resend (250 ms), so that a busy machine cannot make the
        // answered resend come too late; without the resend the hello still times out and this fails.
        try (AgentLink link = new AgentLink(socket, Duration.ofSeconds(10), Clock.systemUTC())) {
            assertEquals("reopened", link.ping().agentVersion());
            assertEquals(2, received.size(), received.toString());
            assertTrue(received.stream().allMatch(r -> r.contains("\"hello\"")), received.toString());
            assertNotEquals(idOf(received.get(0)), idOf(received.get(1)), "a new id");
        }
    }

    /** Only hello is sent again: a scrub whose reply takes longer than hello's resend interval goes once. */
    @Test
    void aRequestOtherThanHelloIsSentOnceHoweverLongItsReplyTakes() throws Exception {
        Path socket = dir.resolve("slow.sock");
        List<String> scrubs = Collections.synchronizedList(new ArrayList<>());
        fakeGuest(socket, (request, out) -> {
            String id = idOf(request);
            String reply;
            if (request.contains("\"hello\"")) {
                reply = "{\"protocol\":1,\"id\":" + id
                        + ",\"result\":{\"protocol_version\":1,\"agent_version\":\"x\",\"page_size_bytes\":4096,\"capabilities\":[]}}";
            } else {
                scrubs.add(request);
                Thread.sleep(4 * AgentConnection.HELLO_RESEND.toMillis());
                reply = "{\"protocol\":1,\"id\":" + id + ",\"error\":{\"code\":\"busy\",\"message\":\"slow\"}}";
            }
            out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
        });
        try (AgentLink link = new AgentLink(socket, READ_TIMEOUT, Clock.systemUTC())) {
            AgentLinkException e =
                    assertThrows(AgentLinkException.class, () -> link.scrub(4096, Duration.ofSeconds(5)));
            assertTrue(e.getMessage().contains("scrub: the agent answered busy: slow"), e.getMessage());
            assertEquals(1, scrubs.size(), scrubs.toString());
        }
    }

    @Test
    void aScrubThatTheAgentRefusesIsAnAgentError() throws Exception {
        Path socket = dir.resolve("refuse.sock");
        fakeGuest(socket, (request, out) -> {
            String id = idOf(request);
            String reply = request.contains("\"hello\"")
                    ? "{\"protocol\":1,\"id\":" + id
                            + ",\"result\":{\"protocol_version\":1,\"agent_version\":\"x\",\"page_size_bytes\":4096,\"capabilities\":[]}}"
                    : "{\"protocol\":1,\"id\":" + id
                            + ",\"error\":{\"code\":\"invalid_arguments\",\"message\":\"no\"}}";
            out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
        });
        try (AgentLink link = new AgentLink(socket, READ_TIMEOUT, Clock.systemUTC())) {
            AgentLinkException e =
                    assertThrows(AgentLinkException.class, () -> link.scrub(4096, Duration.ofSeconds(5)));
            assertEquals(AgentStatus.AGENT_ERROR, e.status());
            assertTrue(e.getMessage().contains("scrub: the agent answered invalid_arguments: no"), e.getMessage());
        }
    }
}
