package org.memhygiene.core.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubPolicy;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.json.JsonInput;
import org.memhygiene.core.json.PlainJson;
import org.memhygiene.core.posture.Finding;

/**
 * The agent protocol (docs/PROTOCOL.md): JSON lines over the virtio-serial port
 * org.memhygiene.agent.0. A request is {"protocol":1,"id":..,"command":"..","arguments":{..}}; a
 * reply carries the request's id and either "result" or "error" {"code","message"}.
 *
 * <p>This is the agent's side, written with Jackson's streaming API only (jackson-core, no databind):
 * the agent idles in a guest that pays for every MiB it holds, and databind's classes are the largest
 * part of what it would hold (docs/PERFORMANCE.md "Guest agent: footprint"). The replies are byte for
 * byte what {@code Json.mapper()} writes for the same records, which the controller reads with databind
 * (AgentProtocolAgreementTest in the controller proves both directions for every message).
 */
public final class AgentProtocol {
    public static final int VERSION = 1;
    public static final String PORT_NAME = "org.memhygiene.agent.0";
    /** Longest line either side accepts; longer lines are skipped and answered with line_too_long. */
    public static final int MAX_LINE_BYTES = 64 * 1024;

    public static final Set<String> COMMANDS =
            Set.of("hello", "posture", "stats", "scrub", "set-policy", "canary-plant", "canary-time", "canary-release");
    private static final Set<String> REQUEST_FIELDS = Set.of("protocol", "id", "command", "arguments");

    private AgentProtocol() {}

    /** Error codes of docs/PROTOCOL.md. */
    public enum ErrorCode {
        INVALID_JSON,
        INVALID_UTF8,
        LINE_TOO_LONG,
        INVALID_REQUEST,
        UNSUPPORTED_VERSION,
        UNKNOWN_COMMAND,
        INVALID_ARGUMENTS,
        RATE_LIMITED,
        INTERNAL,
        /** canary-plant while a canary is planted (one probe at a time), or another session's canary. */
        CANARY_BUSY,
        /** canary-plant that the guest's headroom, memory pressure or locked-memory limit does not allow. */
        CANARY_REFUSED,
        /** canary-time or canary-release of a nonce that is not planted (or was released, or timed already). */
        NO_CANARY;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A request that failed validation; {@code id} is the request's id when it could be read. */
    public static final class ProtocolException extends Exception {
        private final ErrorCode code;
        private final transient Object id;

        public ProtocolException(ErrorCode code, String message, Object id) {
            super(message);
            this.code = code;
            this.id = id;
        }

        public ErrorCode code() {
            return code;
        }

        /** A String, an Integer, Long or BigInteger ({@link PlainJson}), or null. */
        public Object id() {
            return id;
        }
    }

    /**
     * A validated request.
     *
     * @param id        a String, or an Integer, Long or BigInteger, echoed in the reply as it came
     * @param command   one of {@link #COMMANDS}
     * @param arguments the arguments object as {@link PlainJson} values; empty when absent
     */
    public record Request(Object id, String command, Map<String, Object> arguments) {}

    /**
     * Reads one request line. It must be exactly one JSON object (docs/PROTOCOL.md): a key given twice, a
     * second value after it or any other syntax error is invalid_json, read with {@link JsonInput}.
     */
    public static Request parseRequest(String line) throws ProtocolException {
        Object parsed;
        try {
            parsed = JsonInput.readJson(line);
        } catch (JsonInput.MalformedInputException e) {
            throw new ProtocolException(ErrorCode.INVALID_JSON, "not JSON: " + e.getMessage(), null);
        }
        if (!(parsed instanceof Map<?, ?>)) {
            throw new ProtocolException(ErrorCode.INVALID_REQUEST, "a request is a JSON object", null);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> node = (Map<String, Object>) parsed;
        Object id = node.get("id");
        if (!(id instanceof String || PlainJson.isInteger(id))
                || PlainJson.toJson(id).length() > 128) {
            throw new ProtocolException(
                    ErrorCode.INVALID_REQUEST, "\"id\" must be a string or an integer (128 characters at most)", null);
        }
        for (String name : node.keySet()) {
            if (!REQUEST_FIELDS.contains(name)) {
                throw new ProtocolException(
                        ErrorCode.INVALID_REQUEST,
                        "unknown field \"" + abbreviate(name) + "\"; a request has " + REQUEST_FIELDS,
                        id);
            }
        }
        Object version = node.get("protocol");
        if (!(version instanceof Integer number) || number != VERSION) {
            throw new ProtocolException(
                    ErrorCode.UNSUPPORTED_VERSION,
                    "\"protocol\" must be " + VERSION + ", was "
                            + (node.containsKey("protocol") ? abbreviate(PlainJson.toJson(version)) : "missing"),
                    id);
        }
        if (!(node.get("command") instanceof String command)) {
            throw new ProtocolException(ErrorCode.INVALID_REQUEST, "\"command\" must be a string", id);
        }
        if (!COMMANDS.contains(command)) {
            throw new ProtocolException(
                    ErrorCode.UNKNOWN_COMMAND,
                    "unknown command \"" + abbreviate(command) + "\"; commands: " + COMMANDS,
                    id);
        }
        Object arguments = node.get("arguments");
        if (node.containsKey("arguments") && !(arguments instanceof Map<?, ?>)) {
            throw new ProtocolException(ErrorCode.INVALID_ARGUMENTS, "\"arguments\" must be an object", id);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> object = arguments == null ? Map.of() : (Map<String, Object>) arguments;
        return new Request(id, command, object);
    }

    /**
     * The id of request {@code line} where it can be read, else null: for replies that refuse a request
     * without running it (rate_limited), so that the host can still match them.
     */
    public static Object idOf(String line) {
        try {
            return parseRequest(line).id();
        } catch (ProtocolException e) {
            return e.id();
        }
    }

    /**
     * The reply line to {@code id} with {@code result}: an {@link AgentHello}, {@link AgentStats},
     * {@link ScrubReport}, {@link ScrubPolicy}, a list of {@link Finding}s, or a canary result
     * (org.memhygiene.core.canary: CanaryPlanted, CanaryTimings, CanaryReleased).
     */
    public static String result(Object id, Object result) {
        return line(
                generator -> {
                    generator.writeFieldName("result");
                    writeValue(generator, result);
                },
                id);
    }

    public static String error(Object id, ErrorCode code, String message) {
        return line(
                generator -> {
                    generator.writeObjectFieldStart("error");
                    generator.writeStringField("code", code.wireName());
                    generator.writeStringField("message", message);
                    generator.writeEndObject();
                },
                id);
    }

    private interface Body {
        void write(JsonGenerator generator) throws IOException;
    }

    private static String line(Body body, Object id) {
        StringWriter text = new StringWriter();
        try (JsonGenerator generator = JsonInput.JSON.createGenerator(text)) {
            generator.writeStartObject();
            generator.writeNumberField("protocol", VERSION);
            generator.writeFieldName("id");
            PlainJson.write(generator, id);
            body.write(generator);
            generator.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a reply", e); // a StringWriter does not fail
        }
        return text.toString();
    }

    /**
     * The protocol's records as Json.mapper() writes them: snake_case fields in component order, enums by
     * name, an empty Optional as null. Spelled out rather than reflected so that no reflection machinery
     * is loaded; the agreement test fails if a record gains a component this does not write.
     */
    private static void writeValue(JsonGenerator g, Object value) throws IOException {
        if (value instanceof AgentHello hello) {
            g.writeStartObject();
            g.writeNumberField("protocol_version", hello.protocolVersion());
            g.writeStringField("agent_version", hello.agentVersion());
            g.writeNumberField("page_size_bytes", hello.pageSizeBytes());
            g.writeFieldName("capabilities");
            PlainJson.write(g, hello.capabilities());
            g.writeEndObject();
        } else if (value instanceof AgentStats stats) {
            g.writeStartObject();
            g.writeNumberField("mem_total_bytes", stats.memTotalBytes());
            g.writeNumberField("mem_available_bytes", stats.memAvailableBytes());
            g.writeFieldName("scrub");
            writeValue(g, stats.scrub());
            g.writeFieldName("policy");
            writeValue(g, stats.policy());
            g.writeEndObject();
        } else if (value instanceof ScrubCounters counters) {
            g.writeStartObject();
            g.writeNumberField("scrubs_run", counters.scrubsRun());
            g.writeNumberField("total_bytes_zeroed", counters.totalBytesZeroed());
            g.writeFieldName("last_report");
            writeValue(g, counters.lastReport());
            g.writeEndObject();
        } else if (value instanceof ScrubReport report) {
            g.writeStartObject();
            g.writeStringField("outcome", report.outcome().name());
            g.writeStringField("reason", report.reason());
            g.writeNumberField("bytes_zeroed", report.bytesZeroed());
            g.writeNumberField("target_bytes", report.targetBytes());
            g.writeNumberField("duration_millis", report.durationMillis());
            g.writeNumberField("throughput_bytes_per_second", report.throughputBytesPerSecond());
            g.writeNumberField("chunks_completed", report.chunksCompleted());
            g.writeNumberField("chunks_aborted", report.chunksAborted());
            g.writeEndObject();
        } else if (value instanceof ScrubPolicy policy) {
            g.writeStartObject();
            g.writeNumberField("min_headroom_bytes", policy.minHeadroomBytes());
            g.writeNumberField("headroom_percent_of_total", policy.headroomPercentOfTotal());
            g.writeNumberField("pressure_threshold_percent", policy.pressureThresholdPercent());
            g.writeNumberField("max_rate_bytes_per_second", policy.maxRateBytesPerSecond());
            g.writeNumberField("periodic_interval_millis", policy.periodicIntervalMillis());
            g.writeNumberField("large_free_threshold_bytes", policy.largeFreeThresholdBytes());
            g.writeNumberField("large_free_sample_millis", policy.largeFreeSampleMillis());
            g.writeNumberField("triggered_max_bytes", policy.triggeredMaxBytes());
            g.writeEndObject();
        } else if (value instanceof Finding finding) {
            g.writeStartObject();
            g.writeStringField("id", finding.id());
            g.writeStringField("severity", finding.severity().name());
            g.writeStringField("title", finding.title());
            g.writeStringField("evidence", finding.evidence());
            g.writeStringField("remediation", finding.remediation());
            g.writeEndObject();
        } else if (CanaryMessages.isCanaryResult(value)) {
            CanaryMessages.write(g, value);
        } else if (value instanceof Optional<?> optional) {
            writeValue(g, optional.orElse(null));
        } else if (value instanceof List<?> list) {
            g.writeStartArray();
            for (Object item : list) {
                writeValue(g, item);
            }
            g.writeEndArray();
        } else if (value == null) {
            g.writeNull();
        } else {
            throw new IllegalArgumentException(
                    "not a protocol result: " + value.getClass().getName());
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
