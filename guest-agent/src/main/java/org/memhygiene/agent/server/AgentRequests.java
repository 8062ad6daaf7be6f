package org.memhygiene.agent.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.memhygiene.agent.scrub.MemInfo;
import org.memhygiene.agent.scrub.ProcMemory;
import org.memhygiene.agent.scrub.ScrubCounters;
import org.memhygiene.agent.scrub.Scrubber;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.protocol.AgentProtocol;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;
import org.memhygiene.core.protocol.AgentProtocol.ProtocolException;
import org.memhygiene.core.protocol.AgentProtocol.Request;

/** Answers one request line with one reply line; never throws, whatever the line holds. */
public final class AgentRequests {
    /** The reply to hello. */
    public record Hello(int protocolVersion, String agentVersion, long pageSizeBytes, List<String> capabilities) {
    }

    /** The reply to stats. */
    public record Stats(long memTotalBytes, long memAvailableBytes, ScrubCounters scrub) {
    }

    private final Scrubber scrubber;
    private final ProcMemory procMemory;
    private final Supplier<List<Finding>> posture;
    private final String agentVersion;

    public AgentRequests(Scrubber scrubber, ProcMemory procMemory, Supplier<List<Finding>> posture, String agentVersion) {
        this.scrubber = scrubber;
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
        switch (request.command()) {
            case "hello" -> {
                return new Hello(AgentProtocol.VERSION, agentVersion, LinuxMemory.pageSizeBytes(),
                        List.copyOf(AgentProtocol.COMMANDS.stream().sorted().toList()));
            }
            case "posture" -> {
                return posture.get();
            }
            case "stats" -> {
                MemInfo memInfo = procMemory.memInfo();
                return new Stats(memInfo.memTotalBytes(), memInfo.memAvailableBytes(), scrubber.counters());
            }
            default -> {
                return scrubber.scrub(maxBytes(request));
            }
        }
    }

    /** scrub {"max_bytes": N}: a positive integer; absent means "as much as is safe". */
    private static long maxBytes(Request request) throws ProtocolException {
        for (var names = request.arguments().fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!Set.of("max_bytes").contains(name)) {
                throw new ProtocolException(ErrorCode.INVALID_ARGUMENTS, "scrub takes only max_bytes, not \"" + name + "\"",
                        request.id());
            }
        }
        JsonNode max = request.arguments().get("max_bytes");
        if (max == null) {
            return Long.MAX_VALUE;
        }
        if (!max.isIntegralNumber() || !max.canConvertToLong() || max.asLong() <= 0) {
            throw new ProtocolException(ErrorCode.INVALID_ARGUMENTS, "max_bytes must be a positive integer, was " + max,
                    request.id());
        }
        return max.asLong();
    }
}
