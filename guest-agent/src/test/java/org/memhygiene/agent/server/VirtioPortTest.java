package org.memhygiene.agent.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.json.Json;

/**
 * The agent on a character device whose host side comes and goes, as a virtio-serial port does when
 * the controller or QEMU restarts. A pseudo-terminal made by socat stands in for the port (a real one
 * needs a VM): the agent opens the pty's slave side as it opens /dev/virtio-ports/..., and the host
 * talks through socat's unix socket. When socat exits the agent's read fails (EIO), and it must reopen
 * the device with backoff and serve the next host session.
 */
class VirtioPortTest {
    @TempDir
    Path dir;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private Process socat;

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
        if (socat != null) {
            socat.destroyForcibly();
        }
    }

    private void hostSide(Path device, Path socket) throws Exception {
        Files.deleteIfExists(socket);
        socat = new ProcessBuilder("socat", "pty,link=" + device + ",rawer", "unix-listen:" + socket)
                .redirectErrorStream(true)
                .start();
        for (int i = 0; i < 100 && !(Files.exists(device) && Files.exists(socket)); i++) {
            Thread.sleep(50);
        }
    }

    /** One host session: hello with {@code id}, then {@code more} request lines; the replies after hello's. */
    private static List<JsonNode> session(Path socket, int id, String... more) throws Exception {
        try (SocketChannel channel = TestAgent.connectWhenListening(socket)) {
            OutputStream out = Channels.newOutputStream(channel);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            out.write(("{\"protocol\":1,\"id\":" + id + ",\"command\":\"hello\"}\n").getBytes(StandardCharsets.UTF_8));
            assertEquals(
                    id, Json.mapper().readTree(in.readLine()).get("id").asInt(), "the reply to this session's hello");
            List<JsonNode> replies = new ArrayList<>();
            for (String line : more) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                replies.add(Json.mapper().readTree(in.readLine()));
            }
            return replies;
        }
    }

    /** The agent serving {@code device} on a thread of its own, started; interrupting it ends the serving. */
    private Thread servePort(Path device) {
        AgentServer server = new AgentServer(TestAgent.requests("test", scheduler), 50, AgentServer.IDLE_TIMEOUT);
        Thread agent = new Thread(() -> {
            try {
                server.servePort(device);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        agent.setDaemon(true);
        agent.start();
        return agent;
    }

    /**
     * Until udev makes the port the agent waits for it, and makes nothing in its place: opened as a
     * RandomAccessFile "rw" it created a regular file there, served that as an empty port and stood in
     * udev's way. The first attempt is over when the agent sleeps its first backoff.
     */
    @Test
    void anAbsentPortIsWaitedForAndNotCreated() throws Exception {
        Path device = dir.resolve("org.memhygiene.agent.0");
        Thread agent = servePort(device);
        for (int i = 0; i < 60_000 && agent.getState() != Thread.State.TIMED_WAITING; i++) {
            Thread.sleep(1);
        }
        assertEquals(Thread.State.TIMED_WAITING, agent.getState(), "the agent backs off after its first attempt");
        assertFalse(Files.exists(device, LinkOption.NOFOLLOW_LINKS), "the agent made " + device);
        agent.interrupt();
        agent.join();
    }

    @Test
    void servesAPortAndReopensItWhenTheHostSideComesBack() throws Exception {
        Assumptions.assumeTrue(
                new ProcessBuilder("sh", "-c", "command -v socat").start().waitFor() == 0, () -> {
                    System.out.println("SKIPPED VirtioPortTest: socat is not installed (.ci/run installs it)");
                    return "no socat";
                });
        Path device = dir.resolve("org.memhygiene.agent.0");
        Path socket = dir.resolve("host.sock");
        Thread agent = servePort(device); // before the device exists: the agent waits for it with backoff

        String plant = "{\"protocol\":1,\"id\":9,\"command\":\"canary-plant\",\"arguments\":{\"nonce\":\""
                + "ab".repeat(16) + "\",\"pages\":16,\"lease_millis\":3600000}}";
        hostSide(device, socket);
        assertTrue(session(socket, 1, plant).get(0).has("result"), "a canary planted in the first host session");
        socat.waitFor(); // socat ends with its one client; the pty closes under the agent

        hostSide(device, socket);
        JsonNode next = session(socket, 2, plant).get(0);
        assertTrue(
                next.has("result"),
                "the agent reopened the port for the next host session, and the first"
                        + " session's canary went with it (one probe at a time would refuse this one otherwise): "
                        + next);
        agent.interrupt();
    }
}
