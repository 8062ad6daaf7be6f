package org.memhygiene.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;
import org.memhygiene.core.protocol.AgentProtocol.ProtocolException;

class AgentProtocolTest {
    private static ProtocolException refused(String line) {
        return assertThrows(ProtocolException.class, () -> AgentProtocol.parseRequest(line));
    }

    @Test
    void aRequestIsReadIntoPlainValues() throws ProtocolException {
        AgentProtocol.Request request = AgentProtocol.parseRequest("{\"protocol\":1,\"id\":7,\"command\":\"scrub\","
                + "\"arguments\":{\"max_bytes\":4096,\"big\":99999999999999999999,\"rate\":1.5,\"on\":true,\"none\":null,"
                + "\"list\":[\"a\",{\"b\":2}]}}");
        assertEquals(7, request.id());
        assertEquals("scrub", request.command());
        assertEquals(
                List.of("max_bytes", "big", "rate", "on", "none", "list"),
                List.copyOf(request.arguments().keySet()),
                "document order");
        assertEquals(4096, request.arguments().get("max_bytes"));
        assertEquals(new BigInteger("99999999999999999999"), request.arguments().get("big"));
        assertEquals(1.5, request.arguments().get("rate"));
        assertEquals(true, request.arguments().get("on"));
        assertTrue(
                request.arguments().containsKey("none") && request.arguments().get("none") == null);
        assertEquals(List.of("a", Map.of("b", 2)), request.arguments().get("list"));
        assertEquals(
                0,
                AgentProtocol.parseRequest("{\"protocol\":1,\"id\":\"a\",\"command\":\"hello\"}")
                        .arguments()
                        .size());
        assertEquals(
                "a",
                AgentProtocol.parseRequest("{\"protocol\":1,\"id\":\"a\",\"command\":\"hello\"}")
                        .id());
    }

    @Test
    void eachMistakeHasItsCodeAndKeepsTheIdWhenThereIsOne() {
        assertEquals(ErrorCode.INVALID_JSON, refused("{").code());
        assertEquals(
                ErrorCode.INVALID_JSON,
                refused("{\"protocol\":1,\"id\":1,\"command\":\"hello\",}").code());
        assertEquals(ErrorCode.INVALID_REQUEST, refused("[1]").code());
        assertEquals(
                ErrorCode.INVALID_REQUEST,
                refused("{\"protocol\":1,\"command\":\"hello\"}").code());
        assertEquals(
                ErrorCode.INVALID_REQUEST,
                refused("{\"protocol\":1,\"id\":{},\"command\":\"hello\"}").code());
        assertEquals(
                ErrorCode.INVALID_REQUEST,
                refused("{\"protocol\":1,\"id\":\"" + "x".repeat(200) + "\",\"command\":\"hello\"}")
                        .code());
        ProtocolException version = refused("{\"protocol\":2,\"id\":3,\"command\":\"hello\"}");
        assertEquals(ErrorCode.UNSUPPORTED_VERSION, version.code());
        assertEquals(3, version.id());
        assertEquals(
                "\"protocol\" must be 1, was \"1\"",
                refused("{\"protocol\":\"1\",\"id\":3,\"command\":\"hello\"}").getMessage());
        assertEquals(
                "\"protocol\" must be 1, was missing",
                refused("{\"id\":3,\"command\":\"hello\"}").getMessage());
        assertEquals(
                ErrorCode.INVALID_REQUEST,
                refused("{\"protocol\":1,\"id\":3,\"command\":\"hello\",\"extra\":1}")
                        .code());
        assertEquals(
                ErrorCode.INVALID_REQUEST,
                refused("{\"protocol\":1,\"id\":3,\"command\":5}").code());
        assertEquals(
                ErrorCode.INVALID_ARGUMENTS,
                refused("{\"protocol\":1,\"id\":3,\"command\":\"scrub\",\"arguments\":null}")
                        .code());
        assertEquals(
                ErrorCode.UNKNOWN_COMMAND,
                refused("{\"protocol\":1,\"id\":3,\"command\":\"reboot\"}").code());
        assertEquals(
                ErrorCode.INVALID_ARGUMENTS,
                refused("{\"protocol\":1,\"id\":3,\"command\":\"scrub\",\"arguments\":[]}")
                        .code());
        assertNull(refused("{").id());
    }

    @Test
    void aKeyTwiceOrASecondObjectOnTheLineIsInvalidJsonThatSaysSo() {
        ProtocolException twice = refused("{\"protocol\":1,\"id\":1,\"command\":\"hello\",\"command\":\"scrub\"}");
        assertEquals(ErrorCode.INVALID_JSON, twice.code());
        assertTrue(twice.getMessage().startsWith("not JSON: duplicate key 'command'"), twice.getMessage());
        ProtocolException second = refused(
                "{\"protocol\":1,\"id\":1,\"command\":\"hello\"}{\"protocol\":1,\"id\":2,\"command\":\"scrub\"}");
        assertEquals(ErrorCode.INVALID_JSON, second.code());
        assertTrue(
                second.getMessage().startsWith("not JSON: trailing content after the document"), second.getMessage());
    }

    @Test
    void theIdOfALineIsReadWhereItCanBe() {
        assertEquals(7, AgentProtocol.idOf("{\"protocol\":1,\"id\":7,\"command\":\"hello\"}"));
        assertEquals(
                "x",
                AgentProtocol.idOf("{\"protocol\":9,\"id\":\"x\",\"command\":\"hello\"}"),
                "also of a request refused later");
        assertNull(AgentProtocol.idOf("{\"protocol\":1,\"id\":7,"));
        assertNull(AgentProtocol.idOf("{\"protocol\":1,\"id\":[7],\"command\":\"hello\"}"));
    }

    @Test
    void errorRepliesCarryTheWireNameOfTheCode() throws Exception {
        String line = AgentProtocol.error(null, ErrorCode.LINE_TOO_LONG, "too long");
        assertEquals(
                "{\"protocol\":1,\"id\":null,\"error\":{\"code\":\"line_too_long\",\"message\":\"too long\"}}", line);
    }
}
