package org.memhygiene.controller.agentlink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubPolicy;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.canary.CanaryDerivation;
import org.memhygiene.core.canary.CanaryPlanted;
import org.memhygiene.core.canary.CanaryReleased;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.json.PlainJson;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;
import org.memhygiene.core.protocol.AgentProtocol;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;

/**
 * The agent writes and reads the protocol with jackson-core's streaming API (core's AgentProtocol); the
 * controller with databind (AgentConnection). For every message both sides agree: each reply the agent
 * writes is byte for byte what databind writes for the same record (the format of earlier agents) and
 * reads back into an equal record; each request the controller writes reads, on the agent's side, into
 * the same id, command and arguments databind sees in it.
 */
class AgentProtocolAgreementTest {
    private static final ObjectWriter LINE = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);
    private static final ScrubPolicy POLICY =
            new ScrubPolicy(268435456L, 10, 12.5, 0, 600_000, 1L << 30, 5000, Long.MAX_VALUE);
    private static final ScrubReport REPORT = new ScrubReport(
            ScrubReport.Outcome.STOPPED_PRESSURE,
            "memory pressure some avg10=12.30% passed the threshold of 10.00%",
            1L << 33,
            1L << 34,
            520,
            1.0324915E9,
            8,
            1);
    /** Ids as a host may send them: a number, a string that needs escaping, an integer beyond long. */
    private static final List<Object> IDS =
            List.of(17L, "req-\"7\"\t\u00e9\u2603", new BigInteger("123456789012345678901234567890"));

    /** What the databind codec wrote for a reply (the agent's format before the streaming codec). */
    private static String databindReply(Object id, String field, JsonNode body) throws Exception {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("protocol", AgentProtocol.VERSION);
        node.set("id", Json.mapper().valueToTree(id));
        node.set(field, body);
        return LINE.writeValueAsString(node);
    }

    private static <T> void assertAgree(Object result, TypeReference<T> type) throws Exception {
        for (Object id : IDS) {
            String streamed = AgentProtocol.result(id, result);
            assertEquals(databindReply(id, "result", Json.mapper().valueToTree(result)), streamed);
            JsonNode reply = Json.mapper().readTree(streamed);
            assertEquals(result, Json.mapper().convertValue(reply.get("result"), type), streamed);
            assertEquals(LINE.writeValueAsString(id), reply.get("id").toString());
        }
    }

    @Test
    void everyReplyIsWhatDatabindWritesAndReadsBack() throws Exception {
        assertAgree(
                new AgentHello(1, "0.1.0-SNAPSHOT", 16384, List.of("hello", "posture", "scrub", "set-policy", "stats")),
                new TypeReference<AgentHello>() {});
        assertAgree(
                List.of(
                        new Finding(
                                "guest.init_on_free.off",
                                Severity.MEDIUM,
                                "Freed memory keeps \"old\" contents",
                                "/proc/cmdline: no init_on_free=\n(line 2) \u00fc\u0001",
                                "Boot with init_on_free=1"),
                        new Finding("guest.kernel.version", Severity.INFO, "t", "e", "r")),
                new TypeReference<List<Finding>>() {});
        assertAgree(List.<Finding>of(), new TypeReference<List<Finding>>() {});
        assertAgree(
                new AgentStats(2062848000L, 1730629632L, ScrubCounters.NONE, POLICY),
                new TypeReference<AgentStats>() {});
        assertAgree(
                new AgentStats(
                        2062848000L,
                        1730629632L,
                        ScrubCounters.NONE.plus(REPORT).plus(REPORT),
                        POLICY),
                new TypeReference<AgentStats>() {});
        for (ScrubReport.Outcome outcome : ScrubReport.Outcome.values()) {
            assertAgree(new ScrubReport(outcome, "", 0, 0, 0, 0.0, 0, 0), new TypeReference<ScrubReport>() {});
        }
        assertAgree(REPORT, new TypeReference<ScrubReport>() {});
        assertAgree(POLICY, new TypeReference<ScrubPolicy>() {});
        assertAgree(Optional.empty(), new TypeReference<Optional<ScrubReport>>() {});
    }

    @Test
    void everyCanaryReplyIsWhatDatabindWritesAndReadsBack() throws Exception {
        String nonce = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assertAgree(
                new CanaryPlanted(nonce, 256, 256, 4096, CanaryDerivation.NAME, 600_000, 2_097_152),
                new TypeReference<CanaryPlanted>() {});
        CanaryTimings.PageWrites canary = new CanaryTimings.PageWrites(
                List.of(0, 1, 2),
                List.of(5, 0, 3),
                List.of(2_481L, 1_904L, Long.MAX_VALUE),
                new CanaryTimings.WriteSummary(3, 1_904, 2_481, Long.MAX_VALUE, Long.MAX_VALUE));
        CanaryTimings.PageWrites control = new CanaryTimings.PageWrites(
                List.of(0, 1, 2),
                List.of(1, 4, 2),
                List.of(180L, 0L, 201L),
                new CanaryTimings.WriteSummary(3, 0, 180, 201, 201));
        assertAgree(new CanaryTimings(nonce, 1, canary, control), new TypeReference<CanaryTimings>() {});
        assertAgree(new CanaryReleased(nonce, 2_097_152), new TypeReference<CanaryReleased>() {});
    }

    @Test
    void everyErrorIsWhatDatabindWrites() throws Exception {
        for (ErrorCode code : ErrorCode.values()) {
            for (Object id : List.of(3L, "x")) {
                ObjectNode error = JsonNodeFactory.instance
                        .objectNode()
                        .put("code", code.wireName())
                        .put("message", "bad \"input\" \u2603");
                assertEquals(databindReply(id, "error", error), AgentProtocol.error(id, code, "bad \"input\" \u2603"));
            }
        }
        ObjectNode error = JsonNodeFactory.instance
                .objectNode()
                .put("code", "line_too_long")
                .put("message", "m");
        assertEquals(databindReply(null, "error", error), AgentProtocol.error(null, ErrorCode.LINE_TOO_LONG, "m"));
    }

    @Test
    void everyRequestTheControllerWritesTheAgentReadsAsDatabindDoes() throws Exception {
        ObjectNode scrub = JsonNodeFactory.instance
                .objectNode()
                .put("max_bytes", 1L << 40)
                .put("max_rate_bytes_per_second", 1 << 30);
        ObjectNode setPolicy = Json.mapper().valueToTree(POLICY);
        ObjectNode plant = JsonNodeFactory.instance
                .objectNode()
                .put("nonce", "ab".repeat(32))
                .put("pages", 1024)
                .put("lease_millis", 600_000);
        ObjectNode nonce = JsonNodeFactory.instance.objectNode().put("nonce", "AB".repeat(16));
        for (String command : AgentProtocol.COMMANDS) {
            for (ObjectNode arguments : command.equals("scrub")
                    ? List.of(scrub, JsonNodeFactory.instance.objectNode())
                    : command.equals("set-policy")
                            ? List.of(setPolicy)
                            : command.equals("canary-plant")
                                    ? List.of(plant)
                                    : command.startsWith("canary-")
                                            ? List.of(nonce)
                                            : Arrays.asList((ObjectNode) null)) {
                String line = AgentConnection.requestLine(Long.MAX_VALUE - 1, command, arguments);
                AgentProtocol.Request request = AgentProtocol.parseRequest(line);
                assertEquals(Long.MAX_VALUE - 1, request.id(), line);
                assertEquals(command, request.command(), line);
                JsonNode read = Json.mapper().readTree(line).get("arguments");
                Map<String, Object> expected = read == null
                        ? Map.of()
                        : Json.mapper().convertValue(read, new TypeReference<Map<String, Object>>() {});
                assertEquals(expected, request.arguments(), line);
                assertEquals(
                        arguments == null ? "{}" : LINE.writeValueAsString(arguments),
                        PlainJson.toJson(request.arguments()),
                        line);
            }
        }
    }
}
