package org.memhygiene.agent.server;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.memhygiene.agent.canary.CanaryException;
import org.memhygiene.agent.canary.CanaryKeeper;
import org.memhygiene.agent.scrub.MemInfo;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.ScrubPolicyFields;
import org.memhygiene.agent.scrub.ScrubTriggers;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.json.PlainJson;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.protocol.AgentProtocol;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;
import org.memhygiene.core.protocol.AgentProtocol.ProtocolException;
import org.memhygiene.core.protocol.AgentProtocol.Request;

/** Answers one request line with one reply line (docs/PROTOCOL.md); never throws, whatever the line holds. */
public final class AgentRequests {
    private static final Set<String> SCRUB_ARGUMENTS = Set.of("max_bytes", "max_rate_bytes_per_second");
    private static final Set<String> PLANT_ARGUMENTS = Set.of("nonce", "pages", "lease_millis");
    private static final Set<String> NONCE_ARGUMENT = Set.of("nonce");

    private final Scrubber scrubber;
    private final ScrubTriggers triggers;
    private final ProcMemory procMemory;
    private final Supplier<List<Finding>> posture;
    private final String agentVersion;
    private final CanaryKeeper canaries;

    /**
     * @param scrubber     runs scrub requests; set-policy reconfigures it
     * @param triggers     rescheduled after set-policy, so periodic and after-a-large-free scrubs follow it
     * @param procMemory   the meminfo figures of stats
     * @param posture      the findings of posture, probed afresh for each request
     * @param agentVersion reported by hello
     * @param canaries     plants, times and releases the deduplication canary
     */
    public AgentRequests(
            Scrubber scrubber,
            ScrubTriggers triggers,
            ProcMemory procMemory,
            Supplier<List<Finding>> posture,
            String agentVersion,
            CanaryKeeper canaries) {
        this.scrubber = scrubber;
        this.triggers = triggers;
        this.procMemory = procMemory;
        this.posture = posture;
        this.agentVersion = agentVersion;
        this.canaries = canaries;
    }

    /**
     * One peer's conversation. A canary belongs to the session that planted it and is released when the
     * session is closed: the host side of a virtio-serial port going away ends it, as does a socket peer's.
     */
    public final class Session implements AutoCloseable {
        private Session() {}

        /** The reply line to one request line. */
        public String handle(String line) {
            return AgentRequests.this.handle(line, this);
        }

        @Override
        public void close() {
            canaries.sessionEnded(this);
        }
    }

    public Session openSession() {
        return new Session();
    }

    private String handle(String line, Session session) {
        Request request;
        try {
            request = AgentProtocol.parseRequest(line);
        } catch (ProtocolException e) {
            return AgentProtocol.error(e.id(), e.code(), e.getMessage());
        }
        try {
            return AgentProtocol.result(request.id(), execute(request, session));
        } catch (ProtocolException e) {
            return AgentProtocol.error(request.id(), e.code(), e.getMessage());
        } catch (CanaryException e) {
            return AgentProtocol.error(request.id(), e.code(), e.getMessage());
        } catch (RuntimeException e) {
            return AgentProtocol.error(
                    request.id(), ErrorCode.INTERNAL, request.command() + " failed: " + e.getMessage());
        }
    }

    private Object execute(Request request, Session session) throws ProtocolException {
        return switch (request.command()) {
            case "hello" ->
                new AgentHello(
                        AgentProtocol.VERSION,
                        agentVersion,
                        LinuxMemory.pageSizeBytes(),
                        AgentProtocol.COMMANDS.stream().sorted().toList());
            case "posture" -> posture.get();
            case "stats" -> {
                MemInfo memInfo = procMemory.memInfo();
                yield new AgentStats(
                        memInfo.memTotalBytes(),
                        memInfo.memAvailableBytes(),
                        scrubber.counters(),
                        ScrubPolicyFields.policyOf(scrubber.config()));
            }
            case "set-policy" -> setPolicy(request);
            case "canary-plant" -> plant(request, session);
            case "canary-time" -> canaries.time(nonce(request), session);
            case "canary-release" -> canaries.release(nonce(request), session);
            default -> scrub(request);
        };
    }

    /** scrub {"max_bytes": N, "max_rate_bytes_per_second": R}: both optional; the policy's limits still hold. */
    private Object scrub(Request request) throws ProtocolException {
        onlyArguments(request, SCRUB_ARGUMENTS);
        long maxBytes = positive(request, "max_bytes", Long.MAX_VALUE);
        ScrubConfig config = scrubber.config();
        if (request.arguments().containsKey("max_rate_bytes_per_second")) {
            config = config.withMaxRate(positive(request, "max_rate_bytes_per_second", 0));
        }
        return scrubber.scrub(maxBytes, config);
    }

    /** set-policy {fields of ScrubPolicy}: all or nothing; the reply is the policy now in force. */
    private Object setPolicy(Request request) throws ProtocolException {
        ScrubConfig next;
        try {
            next = ScrubPolicyFields.apply(scrubber.config(), request.arguments());
        } catch (IllegalArgumentException e) {
            throw invalid(request, e.getMessage());
        }
        scrubber.reconfigure(next);
        triggers.reschedule();
        return ScrubPolicyFields.policyOf(next);
    }

    /**
     * canary-plant {"nonce": HEX, "pages": N, "lease_millis": L}: nonce required, the others optional; the
     * bounds are CanaryBounds'.
     */
    private Object plant(Request request, Session session) throws ProtocolException {
        onlyArguments(request, PLANT_ARGUMENTS);
        byte[] nonce = nonce(request);
        long pageBytes = LinuxMemory.pageSizeBytes();
        long pages = positive(request, "pages", CanaryBounds.defaultPages(pageBytes));
        long leaseMillis = positive(request, "lease_millis", CanaryBounds.DEFAULT_LEASE_MILLIS);
        try {
            return canaries.plant(
                    nonce,
                    CanaryBounds.checkPages("pages", pages, pageBytes),
                    CanaryBounds.checkLease("lease_millis", leaseMillis),
                    session);
        } catch (IllegalArgumentException e) {
            throw invalid(request, e.getMessage());
        }
    }

    /** The required "nonce" of the canary commands; canary-time and canary-release take nothing else. */
    private static byte[] nonce(Request request) throws ProtocolException {
        if (!request.command().equals("canary-plant")) {
            onlyArguments(request, NONCE_ARGUMENT);
        }
        Object nonce = request.arguments().get("nonce");
        if (!(nonce instanceof String hex)) {
            throw invalid(
                    request,
                    "nonce must be a string of hex digits, was "
                            + (request.arguments().containsKey("nonce") ? PlainJson.toJson(nonce) : "missing"));
        }
        try {
            return CanaryBounds.parseNonce("nonce", hex);
        } catch (IllegalArgumentException e) {
            throw invalid(request, e.getMessage());
        }
    }

    private static void onlyArguments(Request request, Set<String> allowed) throws ProtocolException {
        for (String name : request.arguments().keySet()) {
            if (!allowed.contains(name)) {
                throw invalid(
                        request,
                        request.command() + " takes "
                                + allowed.stream().sorted().toList() + ", not \"" + name + "\"");
            }
        }
    }

    private static long positive(Request request, String name, long absent) throws ProtocolException {
        if (!request.arguments().containsKey(name)) {
            return absent;
        }
        Object value = request.arguments().get(name);
        if (!PlainJson.isLong(value) || ((Number) value).longValue() <= 0) {
            throw invalid(request, name + " must be a positive integer, was " + PlainJson.toJson(value));
        }
        return ((Number) value).longValue();
    }

    private static ProtocolException invalid(Request request, String message) {
        return new ProtocolException(ErrorCode.INVALID_ARGUMENTS, message, request.id());
    }
}
