package org.memhygiene.controller.agentlink;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.memhygiene.core.agent.AgentEvent;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentLinkException;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.canary.CanaryPlanted;
import org.memhygiene.core.canary.CanaryReleased;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.protocol.AgentProtocol;

/**
 * The controller's link to one VM's agent: a connection kept open across samples (a virtio-serial
 * port makes the guest reopen its side whenever the host side closes), re-established with
 * exponential backoff after any failure, so a VM that restarts is picked up again and a broken guest
 * is not hammered. Each call is bounded by its timeout; a failure only changes this VM's row and adds
 * an event. Calls on one link are serialized.
 */
public final class AgentLink implements AutoCloseable {
    private static final int MAX_EVENTS = 32;
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
    /** A guest's posture changes with a reboot or an admin's change, not between samples: ask now and then. */
    static final Duration POSTURE_REFRESH = Duration.ofMinutes(1);

    private static final JavaType HELLO = type(AgentHello.class);
    private static final JavaType STATS = type(AgentStats.class);
    private static final JavaType SCRUB = type(ScrubReport.class);
    private static final JavaType CANARY_PLANTED = type(CanaryPlanted.class);
    private static final JavaType CANARY_TIMINGS = type(CanaryTimings.class);
    private static final JavaType CANARY_RELEASED = type(CanaryReleased.class);
    private static final JavaType POSTURE =
            Json.mapper().getTypeFactory().constructCollectionType(List.class, Finding.class);

    private final Path socket;
    private final Duration readTimeout;
    private final Clock clock;
    private final AtomicLong ids = new AtomicLong();
    private final Deque<AgentEvent> events = new ArrayDeque<>();
    private AgentConnection connection;
    private Instant retryAt = Instant.MIN;
    private Duration backoff = FIRST_BACKOFF;
    private AgentStatus status = AgentStatus.UNREACHABLE;
    private String problem = "not connected yet";
    private AgentHello hello;
    private AgentStats stats;
    private List<Finding> posture = List.of();
    private Instant postureAt = Instant.MIN;
    private volatile AgentSample lastSample;

    /**
     * @param socket      the host side of the domain's org.memhygiene.agent.0 channel
     * @param readTimeout how long one sample (connect, hello, stats, posture) may take in all
     * @param clock       times events and backoff
     */
    public AgentLink(Path socket, Duration readTimeout, Clock clock) {
        this.socket = socket;
        this.readTimeout = readTimeout;
        this.clock = clock;
    }

    public Path socket() {
        return socket;
    }

    /**
     * Connects if needed (unless backing off), then asks for stats, and for posture on a new connection
     * and every {@link #POSTURE_REFRESH}; never throws.
     */
    public synchronized AgentSample sample() {
        long deadline = System.nanoTime() + readTimeout.toNanos();
        if (connection == null && clock.instant().isBefore(retryAt)) {
            return snapshot(AgentStatus.BACKING_OFF, problem + "; next attempt at " + retryAt);
        }
        try {
            ensureConnected(deadline);
            stats = connection.call("stats", null, STATS, deadline);
            if (!clock.instant().isBefore(postureAt.plus(POSTURE_REFRESH))) {
                posture = connection.<List<Finding>>call("posture", null, POSTURE, deadline);
                postureAt = clock.instant();
            }
            status = AgentStatus.OK;
            problem = "";
            backoff = FIRST_BACKOFF;
        } catch (AgentLinkException e) {
            fail(e);
        }
        lastSample = snapshot(status, problem);
        return lastSample;
    }

    /** The sample {@link #sample()} returned last; empty before the first. */
    public Optional<AgentSample> lastSample() {
        return Optional.ofNullable(lastSample);
    }

    /** hello on a fresh connection: is the agent there and which version is it. */
    public synchronized AgentHello ping() throws AgentLinkException {
        dropConnection();
        try {
            ensureConnected(System.nanoTime() + readTimeout.toNanos());
            return hello;
        } catch (AgentLinkException e) {
            fail(e);
            throw e;
        }
    }

    /**
     * Asks the agent to scrub; waits up to {@code timeout}, which must cover the scrub itself (at the
     * default 256 MiB/s cap, 4 s per GiB) on top of the read timeout.
     */
    public synchronized ScrubReport scrub(long maxBytes, Duration timeout) throws AgentLinkException {
        ObjectNode arguments = JsonNodeFactory.instance.objectNode();
        if (maxBytes != Long.MAX_VALUE) {
            arguments.put("max_bytes", maxBytes);
        }
        ScrubReport report = call("scrub", arguments, SCRUB, timeout);
        event(AgentStatus.OK, "scrub: " + report.outcome() + ", " + report.bytesZeroed() + " bytes zeroed");
        return report;
    }

    /**
     * Plants the deduplication canary (docs/PROTOCOL.md, canary-plant): it lives as long as this link's
     * connection, so the caller times and releases it on this link, with no failure in between.
     */
    public synchronized CanaryPlanted canaryPlant(String nonce, int pages, long leaseMillis, Duration timeout)
            throws AgentLinkException {
        ObjectNode arguments = JsonNodeFactory.instance.objectNode();
        arguments.put("nonce", nonce);
        arguments.put("pages", pages);
        arguments.put("lease_millis", leaseMillis);
        CanaryPlanted planted = call("canary-plant", arguments, CANARY_PLANTED, timeout);
        event(AgentStatus.OK, "canary-plant: " + planted.canaryPages() + " canary pages");
        return planted;
    }

    /** Times one write to each canary and control page (canary-time). */
    public synchronized CanaryTimings canaryTime(String nonce, Duration timeout) throws AgentLinkException {
        ObjectNode arguments = JsonNodeFactory.instance.objectNode();
        arguments.put("nonce", nonce);
        return call("canary-time", arguments, CANARY_TIMINGS, timeout);
    }

    /** Zeroes and unmaps the canary (canary-release). */
    public synchronized CanaryReleased canaryRelease(String nonce, Duration timeout) throws AgentLinkException {
        ObjectNode arguments = JsonNodeFactory.instance.objectNode();
        arguments.put("nonce", nonce);
        CanaryReleased released = call("canary-release", arguments, CANARY_RELEASED, timeout);
        event(AgentStatus.OK, "canary-release: " + released.releasedBytes() + " bytes");
        return released;
    }

    private <T> T call(String command, ObjectNode arguments, JavaType type, Duration timeout)
            throws AgentLinkException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            ensureConnected(Math.min(deadline, System.nanoTime() + readTimeout.toNanos()));
            return connection.call(command, arguments, type, deadline);
        } catch (AgentLinkException e) {
            fail(e);
            throw e;
        }
    }

    private void ensureConnected(long deadlineNanos) throws AgentLinkException {
        if (connection != null) {
            return;
        }
        Duration left = Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
        connection = AgentConnection.open(socket, left, ids);
        hello = connection.hello(HELLO, deadlineNanos);
        if (hello.protocolVersion() != AgentProtocol.VERSION) {
            throw new AgentLinkException(
                    AgentStatus.AGENT_ERROR,
                    "hello: the agent speaks protocol " + hello.protocolVersion() + ", not " + AgentProtocol.VERSION);
        }
        postureAt = Instant.MIN; // a new connection may be a rebooted guest: ask for its posture again
        event(
                AgentStatus.OK,
                "connected to agent " + hello.agentVersion() + " (protocol " + hello.protocolVersion() + ")");
    }

    /** Any failure drops the connection: after a timeout or garbage the stream's position is unknown. */
    private void fail(AgentLinkException e) {
        dropConnection();
        status = e.status();
        problem = e.getMessage();
        retryAt = clock.instant().plus(backoff);
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        event(status, problem);
    }

    private void dropConnection() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    private void event(AgentStatus eventStatus, String detail) {
        if (events.size() == MAX_EVENTS) {
            events.removeFirst();
        }
        events.addLast(new AgentEvent(clock.instant(), eventStatus, detail));
    }

    private AgentSample snapshot(AgentStatus sampleStatus, String sampleProblem) {
        return new AgentSample(
                clock.instant(),
                sampleStatus,
                sampleProblem,
                Optional.ofNullable(hello),
                Optional.ofNullable(stats),
                posture,
                List.copyOf(events));
    }

    @Override
    public synchronized void close() {
        dropConnection();
    }

    private static JavaType type(Class<?> type) {
        return Json.mapper().getTypeFactory().constructType(type);
    }
}
