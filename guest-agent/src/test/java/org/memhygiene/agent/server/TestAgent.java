package org.memhygiene.agent.server;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.memhygiene.agent.canary.CanaryKeeper;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.SafetyLimits;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.ScrubTriggers;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;

/**
 * The real agent's server (this machine's /proc, a real scrubber) on a socket, in the test's JVM, with
 * one fixed posture finding "guest.test" so replies are predictable. Shared with the controller's
 * agent-link tests through this module's test jar.
 */
public final class TestAgent {
    private TestAgent() {}

    /**
     * The real requests of an agent on this machine: scrubs and canaries for real, the posture fixed.
     * {@code scheduler} runs scrub triggers and canary leases.
     */
    public static AgentRequests requests(String version, ScheduledExecutorService scheduler) {
        Path proc = Path.of("/proc");
        Scrubber scrubber = new Scrubber(ScrubConfig.defaults(), proc, Clock.systemUTC());
        return new AgentRequests(
                scrubber,
                new ScrubTriggers(scrubber, scheduler, report -> {}),
                new ProcMemory(proc),
                () -> List.of(new Finding("guest.test", Severity.LOW, "t", "e", "r")),
                version,
                new CanaryKeeper(new SafetyLimits(new ProcMemory(proc)), scrubber::config, scheduler));
    }

    /** Binds now and serves on a daemon thread until the returned channel is closed. */
    public static ServerSocketChannel serve(
            SocketAddress address, int maxRequestsPerSecond, String version, ScheduledExecutorService scheduler)
            throws IOException {
        return serve(address, maxRequestsPerSecond, version, scheduler, AgentServer.IDLE_TIMEOUT);
    }

    /** As above, with a socket peer's idle timeout of the test's choosing. */
    public static ServerSocketChannel serve(
            SocketAddress address,
            int maxRequestsPerSecond,
            String version,
            ScheduledExecutorService scheduler,
            Duration idleTimeout)
            throws IOException {
        AgentServer server = new AgentServer(requests(version, scheduler), maxRequestsPerSecond, idleTimeout);
        ServerSocketChannel channel = server.bind(address);
        Thread thread = new Thread(
                () -> {
                    try {
                        server.serve(channel);
                    } catch (IOException e) {
                        // closed by the test
                    }
                },
                "test-agent");
        thread.setDaemon(true);
        thread.start();
        return channel;
    }

    /** The socket file appears at bind(), a moment before listen(): retry until a connect succeeds. */
    public static SocketChannel connectWhenListening(Path socket) throws Exception {
        for (int i = 0; ; i++) {
            try {
                return SocketChannel.open(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                if (i == 200) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }
}
