package org.memhygiene.controller.agentlink;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStatus;

/**
 * The links to every VM's agent, keyed by domain UUID. {@link #sampleAll} samples them in parallel, each
 * bounded by the read timeout, so the slowest or most hostile guest delays a host sample by at most that
 * timeout and changes only its own row.
 */
public final class AgentLinks implements AutoCloseable {
    private final Duration readTimeout;
    private final Duration refresh;
    private final Clock clock;
    private final ExecutorService pool;
    private final Map<String, AgentLink> links = new HashMap<>();

    /**
     * @param readTimeout bound of one VM's sample
     * @param refresh     a link sampled less than this ago keeps its sample (guest memory figures move in
     *                    seconds; asking 50 agents every second would be most of the daemon's CPU);
     *                    {@link Duration#ZERO} asks every time
     * @param maxParallel links sampled at once; more VMs than this queue (each still bounded)
     */
    public AgentLinks(Duration readTimeout, Duration refresh, int maxParallel, Clock clock) {
        this.readTimeout = readTimeout;
        this.refresh = refresh;
        this.clock = clock;
        this.pool = Executors.newFixedThreadPool(maxParallel, task -> {
            Thread thread = new Thread(task, "agent-link");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Samples the agents of {@code sockets} (domain UUID to the channel's host-side socket, empty when
     * the domain has no agent channel). Links of domains no longer listed are closed; a socket path that
     * changed (the VM restarted with an auto-generated path) gets a fresh link.
     */
    public synchronized Map<String, AgentSample> sampleAll(Map<String, Optional<Path>> sockets) {
        links.entrySet().removeIf(entry -> {
            Optional<Path> socket = sockets.getOrDefault(entry.getKey(), Optional.empty());
            boolean gone =
                    socket.isEmpty() || !socket.get().equals(entry.getValue().socket());
            if (gone) {
                entry.getValue().close();
            }
            return gone;
        });
        Map<String, Future<AgentSample>> running = new LinkedHashMap<>();
        Map<String, AgentSample> samples = new LinkedHashMap<>();
        for (Map.Entry<String, Optional<Path>> entry : sockets.entrySet()) {
            if (entry.getValue().isEmpty()) {
                samples.put(entry.getKey(), noChannel());
                continue;
            }
            AgentLink link = links.computeIfAbsent(
                    entry.getKey(), uuid -> new AgentLink(entry.getValue().get(), readTimeout, clock));
            Optional<AgentSample> fresh = link.lastSample()
                    .filter(last -> clock.instant().isBefore(last.sampledAt().plus(refresh)));
            if (fresh.isPresent()) {
                samples.put(entry.getKey(), fresh.get());
            } else {
                running.put(entry.getKey(), pool.submit(link::sample));
            }
        }
        for (Map.Entry<String, Future<AgentSample>> entry : running.entrySet()) {
            samples.put(entry.getKey(), await(entry.getValue()));
        }
        return samples;
    }

    /** The link of one domain, made if needed (for scrub and ping). */
    public synchronized AgentLink link(String uuid, Path socket) {
        AgentLink link = links.get(uuid);
        if (link == null || !link.socket().equals(socket)) {
            if (link != null) {
                link.close();
            }
            link = new AgentLink(socket, readTimeout, clock);
            links.put(uuid, link);
        }
        return link;
    }

    private AgentSample await(Future<AgentSample> sample) {
        try {
            // Each sample ends by its own deadline; the slack covers scheduling when the pool queues.
            return sample.get(readTimeout.toMillis() * 4 + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return failed(AgentStatus.AGENT_ERROR, "sample failed: " + e.getCause());
        } catch (TimeoutException e) {
            sample.cancel(true);
            return failed(AgentStatus.TIMEOUT, "sample did not finish in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(AgentStatus.TIMEOUT, "interrupted");
        }
    }

    private AgentSample noChannel() {
        return failed(AgentStatus.NO_CHANNEL, "the domain has no org.memhygiene.agent.0 channel");
    }

    private AgentSample failed(AgentStatus status, String problem) {
        return AgentSample.without(status, problem, clock.instant());
    }

    @Override
    public synchronized void close() {
        links.values().forEach(AgentLink::close);
        links.clear();
        pool.shutdownNow();
    }
}
