package org.memhygiene.agent.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.ScrubTriggers;
import org.memhygiene.agent.scrub.Scrubber;
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
                .redirectErrorStream(true).start();
        for (int i = 0; i < 100 && !(Files.exists(device) && Files.exists(socket)); i++) {
            Thread.sleep(50);
        }
    }

    private static int hello(Path socket, int id) throws Exception {
        try (SocketChannel channel = TestAgent.connectWhenListening(socket)) {
            Channels.newOutputStream(channel).write(("{\"protocol\":1,\"id\":" + id + ",\"command\":\"hello\"}\n")
                    .getBytes(StandardCharsets.UTF_8));
            String reply = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel),
                    StandardCharsets.UTF_8)).readLine();
            return Json.mapper().readTree(reply).get("id").asInt();
        }
    }

    @Test
    void servesAPortAndReopensItWhenTheHostSideComesBack() throws Exception {
        Assumptions.assumeTrue(new ProcessBuilder("sh", "-c", "command -v socat").start().waitFor() == 0,
                () -> { System.out.println("SKIPPED VirtioPortTest: socat is not installed (.ci/run installs it)"); return "no socat"; });
        Path device = dir.resolve("org.memhygiene.agent.0");
        Path socket = dir.resolve("host.sock");
        Path proc = Path.of("/proc");
        Scrubber scrubber = new Scrubber(ScrubConfig.defaults(), proc, Clock.systemUTC());
        AgentServer server = new AgentServer(new AgentRequests(scrubber, new ScrubTriggers(scrubber, scheduler, r -> { }),
                new ProcMemory(proc), List::of, "test"), 50, AgentServer.IDLE_TIMEOUT);
        Thread agent = new Thread(() -> {
            try {
                server.servePort(device);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        agent.setDaemon(true);
        agent.start(); // before the device exists: the agent waits for it with backoff

        hostSide(device, socket);
        assertEquals(1, hello(socket, 1));
        socat.waitFor(); // socat ends with its one client; the pty closes under the agent

        hostSide(device, socket);
        assertEquals(2, hello(socket, 2), "the agent reopened the port for the next host session");
        agent.interrupt();
    }
}
