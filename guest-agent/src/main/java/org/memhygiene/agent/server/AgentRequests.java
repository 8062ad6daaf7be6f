package org.memhygiene.agent.server;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.memhygiene.agent.scrub.MemInfo;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.ScrubPolicyFields;
import org.memhygiene.agent.scrub.ScrubTriggers;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentStats;
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

    private final Scrubber scrubber;
    private final ScrubTriggers triggers;
    private final ProcMemory procMemory;
    private final Supplier<List<Finding>> posture;
    private final String agentVersion;

    /**
     * @param scrubber     runs scrub requests; set-policy reconfigures it
     * @param triggers     rescheduled after set-policy, so periodic and after-a-large-free scrubs follow it
     * @param procMemory   the meminfo figures of stats
     * @param posture      the findings of posture, probed afresh for each request
     * @param agentVersion reported by hello
     */
    public AgentRequests(Scrubber scrubber, ScrubTriggers triggers, ProcMemory procMemory,
            Supplier<List<Finding>> posture, String agentVersion) {
        this.scrubber = scrubber;
        this.triggers = triggers;
        this.procMemory = procMemory;
        this.posture = posture;
        this.agentVersion = agentVersion;
    }

    public String handle(String line) {
        Request request;
        try {
            request = AgentProtocol.parseRequest(line);
        } catch (ProtocolException e) {
            return AgentProtocol.error(e.id(), e.code(), e.getMessage());
        }
        try {
            return AgentProtocol.result(request.id(), execute(request));
        } catch (ProtocolException e) {
            return AgentProtocol.error(request.id(), e.code(), e.getMessage());
        } catch (RuntimeException e) {
            return AgentProtocol.error(request.id(), ErrorCode.INTERNAL, request.command() + " failed: " + e.getMessage());
        }
    }

    private Object execute(Request request) throws ProtocolException {
        return switch (request.command()) {
            case "hello" -> new AgentHello(AgentProtocol.VERSION, agentVersion, LinuxMemory.pageSizeBytes(),
                    AgentProtocol.COMMANDS.stream().sorted().toList());
            case "posture" -> posture.get();
            case "stats" -> {
                MemInfo memInfo = procMemory.memInfo();
                yield new AgentStats(memInfo.memTotalBytes(), memInfo.memAvailableBytes(), scrubber.counters(),
                        ScrubPolicyFields.policyOf(scrubber.config()));
            }
            case "set-policy" -> setPolicy(request);
            default -> scrub(request);
        };
    }

    /** scrub {"max_bytes": N, "max_rate_bytes_per_second": R}: both optional; the policy's limits still hold. */
    private Object scrub(Request request) throws ProtocolException {
        Map<String, Object> arguments = request.arguments();
        for (String name : arguments.keySet()) {
            if (!SCRUB_ARGUMENTS.contains(name)) {
                throw invalid(request, "scrub takes " + SCRUB_ARGUMENTS.stream().sorted().toList() + ", not \""
                        + name + "\"");
            }
        }
        long maxBytes = positive(request, "max_bytes", Long.MAX_VALUE);
        ScrubConfig config = scrubber.config();
        if (arguments.containsKey("max_rate_bytes_per_second")) {
            config = config.withMaxRate(positive(request, "max_rate_bytes_per_second", 0));
        }
        return scrubber.scrub(maxBytes, config);
    }

    /** set-policy {fields of ScrubPolicy}: all or nothing; the reply is the policy now in force. */
    private Object setPolicy(Request request) throws ProtocolException {
        ScrubConfig next;
        try {
            next = ScrubPolicyFields.apply(scrubber.config(), request.arguments(), ScrubPolicyFields.Units.NUMBERS_ONLY);
        } catch (IllegalArgumentException e) {
            throw invalid(request, e.getMessage());
        }
        scrubber.reconfigure(next);
        triggers.reschedule();
        return ScrubPolicyFields.policyOf(next);
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
