package org.memhygiene.agent;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.memhygiene.agent.canary.CanaryKeeper;
import org.memhygiene.agent.posture.PostureProbe;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.SafetyLimits;
import org.memhygiene.agent.scrub.ScrubTriggers;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.agent.server.AgentRequests;
import org.memhygiene.agent.server.AgentServer;
import org.memhygiene.core.units.ByteSize;

/**
 * What the agent does with no subcommand: serve the host until killed. Free of picocli, so that
 * {@link AgentMain#main} can run it without loading the command line's classes (9.9 MiB of RSS,
 * docs/PERFORMANCE.md "Guest agent: footprint"); the picocli command runs the same code.
 */
final class AgentService {
    /** Generous for a host that polls every second, tight enough that a flood costs little. */
    static final int MAX_REQUESTS_PER_SECOND = 50;

    /** A bad config file or listen address: the command line reports it as a usage error. */
    static final class UsageException extends IllegalArgumentException {
        UsageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final AgentConfig config;
    private final String where;
    /** Null when {@link #where} is a character device (the virtio-serial port). */
    private final SocketAddress address;

    private AgentService(AgentConfig config, String where, SocketAddress address) {
        this.config = config;
        this.where = where;
        this.address = address;
    }

    /**
     * Reads the config ({@code configOption}, else $MEMHYGIENE_AGENT_CONFIG, else the defaults) and checks
     * where to serve ({@code listenOption}, else the config's listen) before anything starts.
     */
    static AgentService prepare(String listenOption, Path configOption) {
        AgentConfig config = config(configOption);
        String where = listenOption != null ? listenOption : config.listen();
        if (where.startsWith("/")) {
            return new AgentService(config, where, null);
        }
        try {
            return new AgentService(config, where, AgentServer.parseListen(where));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** {@code option}, else $MEMHYGIENE_AGENT_CONFIG, else the defaults; a bad file is a UsageException. */
    static AgentConfig config(Path option) {
        String fromEnvironment = System.getenv(AgentConfig.ENVIRONMENT_VARIABLE);
        Path chosen = option != null
                ? option
                : fromEnvironment != null && !fromEnvironment.isEmpty() ? Path.of(fromEnvironment) : null;
        if (chosen == null) {
            return AgentConfig.defaults();
        }
        try {
            return AgentConfig.load(chosen);
        } catch (IllegalArgumentException e) {
            throw new UsageException("config " + e.getMessage(), e);
        }
    }

    /** One daemon thread, started with the first task. */
    private static ScheduledExecutorService daemonScheduler(String name) {
        return Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Serves until the process ends. */
    void serve() throws IOException, InterruptedException {
        Path proc = Path.of("/proc");
        Scrubber scrubber = new Scrubber(config.scrub(), proc, Clock.systemUTC());
        ScrubTriggers triggers = new ScrubTriggers(
                scrubber,
                daemonScheduler("scrub-triggers"),
                report -> System.err.println("memhygiene-agent: triggered scrub: " + report.outcome() + ", "
                        + ByteSize.format(report.bytesZeroed()) + " zeroed"
                        + (report.reason().isEmpty() ? "" : ": " + report.reason())));
        triggers.reschedule();
        ProcMemory procMemory = new ProcMemory(proc);
        // Leases on a thread of their own (started at the first plant), so one runs out on time even while
        // a triggered scrub runs.
        AgentRequests requests = new AgentRequests(
                scrubber,
                triggers,
                procMemory,
                () -> PostureProbe.ofThisMachine().probe(),
                AgentMain.version(),
                new CanaryKeeper(new SafetyLimits(procMemory), scrubber::config, daemonScheduler("canary-leases")));
        AgentServer server = new AgentServer(requests, MAX_REQUESTS_PER_SECOND, AgentServer.IDLE_TIMEOUT);
        if (address == null) {
            System.err.println("memhygiene-agent: serving on " + where);
            server.servePort(Path.of(where));
            return;
        }
        try (ServerSocketChannel channel = server.bind(address)) {
            System.err.println("memhygiene-agent: serving on " + where);
            server.serve(channel);
        }
    }
}
