package org.memhygiene.core.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import org.memhygiene.core.json.Json;

/**
 * The agent protocol (docs/PROTOCOL.md): JSON lines over the virtio-serial port
 * org.memhygiene.agent.0. A request is {"protocol":1,"id":..,"command":"..","arguments":{..}}; a
 * reply carries the request's id and either "result" or "error" {"code","message"}.
 */
public final class AgentProtocol {
    public static final int VERSION = 1;
    public static final String PORT_NAME = "org.memhygiene.agent.0";
    /** Longest line either side accepts; longer lines are skipped and answered with line_too_long. */
    public static final int MAX_LINE_BYTES = 64 * 1024;
    public static final Set<String> COMMANDS = Set.of("hello", "posture", "stats", "scrub", "set-policy");
    private static final Set<String> REQUEST_FIELDS = Set.of("protocol", "id", "command", "arguments");
    private static final ObjectWriter LINE = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);

    private AgentProtocol() {
    }

    /** Error codes of docs/PROTOCOL.md. */
    public enum ErrorCode {
        INVALID_JSON, INVALID_UTF8, LINE_TOO_LONG, INVALID_REQUEST, UNSUPPORTED_VERSION, UNKNOWN_COMMAND,
        INVALID_ARGUMENTS, RATE_LIMITED, INTERNAL;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A request that failed validation; {@code id} is the request's id when it could be read. */
    public static final class ProtocolException extends Exception {
        private final ErrorCode code;
        private final JsonNode id;

        public ProtocolException(ErrorCode code, String message, JsonNode id) {
            super(message);
            this.code = code;
            this.id = id;
        }

        public ErrorCode code() {
            return code;
        }

        public JsonNode id() {
            return id;
        }
    }

    /** A validated request. */
    public record Request(JsonNode id, String command, ObjectNode arguments) {
    }

    public static Request parseRequest(String line) throws ProtocolException {
        JsonNode node;
        try {
            node = Json.mapper().readTree(line);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.INVALID_JSON, "not JSON: " + e.getOriginalMessage(), null);
        }
        if (node == null || !node.isObject()) {
            throw new ProtocolException(ErrorCode.INVALID_REQUEST, "a request is a JSON object", null);
        }
        JsonNode id = node.get("id");
        if (id == null || !(id.isTextual() || id.isIntegralNumber()) || id.toString().length() > 128) {
            throw new ProtocolException(ErrorCode.INVALID_REQUEST, "\"id\" must be a string or an integer (128 characters at most)", null);
        }
        for (var names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!REQUEST_FIELDS.contains(name)) {
                throw new ProtocolException(ErrorCode.INVALID_REQUEST, "unknown field \"" + abbreviate(name)
                        + "\"; a request has " + REQUEST_FIELDS, id);
            }
        }
        JsonNode version = node.get("protocol");
        if (version == null || !version.isInt() || version.asInt() != VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION, "\"protocol\" must be " + VERSION + ", was "
                    + (version == null ? "missing" : abbreviate(version.toString())), id);
        }
        JsonNode command = node.get("command");
        if (command == null || !command.isTextual()) {
            throw new ProtocolException(ErrorCode.INVALID_REQUEST, "\"command\" must be a string", id);
        }
        if (!COMMANDS.contains(command.asText())) {
            throw new ProtocolException(ErrorCode.UNKNOWN_COMMAND, "unknown command \"" + abbreviate(command.asText())
                    + "\"; commands: " + COMMANDS, id);
        }
        JsonNode arguments = node.get("arguments");
        if (arguments != null && !arguments.isObject()) {
            throw new ProtocolException(ErrorCode.INVALID_ARGUMENTS, "\"arguments\" must be an object", id);
        }
        return new Request(id, command.asText(),
                arguments == null ? JsonNodeFactory.instance.objectNode() : (ObjectNode) arguments);
    }

    public static String request(JsonNode id, String command, ObjectNode arguments) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("protocol", VERSION);
        node.set("id", id);
        node.put("command", command);
        if (arguments != null) {
            node.set("arguments", arguments);
        }
        return line(node);
    }

    public static String result(JsonNode id, Object result) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("protocol", VERSION);
        node.set("id", id);
        node.set("result", Json.mapper().valueToTree(result));
        return line(node);
    }

    public static String error(JsonNode id, ErrorCode code, String message) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("protocol", VERSION);
        node.set("id", id);
        ObjectNode error = node.putObject("error");
        error.put("code", code.wireName());
        error.put("message", message);
        return line(node);
    }

    private static String line(ObjectNode node) {
        try {
            return LINE.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a reply: " + e.getMessage(), e);
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
