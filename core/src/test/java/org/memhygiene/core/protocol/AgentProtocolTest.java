package org.memhygiene.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;
import org.memhygiene.core.protocol.AgentProtocol.ProtocolException;

class AgentProtocolTest {
    private static ProtocolException refused(String line) {
        return assertThrows(ProtocolException.class, () -> AgentProtocol.parseRequest(line));
    }

    @Test
    void aRequestRoundTrips() throws ProtocolException {
        String line = AgentProtocol.request(IntNode.valueOf(7), "scrub",
                JsonNodeFactory.instance.objectNode().put("max_bytes", 4096));
        assertFalse(line.contains("\n"), "one line");
        AgentProtocol.Request request = AgentProtocol.parseRequest(line);
        assertEquals(7, request.id().asInt());
        assertEquals("scrub", request.command());
        assertEquals(4096, request.arguments().get("max_bytes").asInt());
        assertEquals(0, AgentProtocol.parseRequest("{\"protocol\":1,\"id\":\"a\",\"command\":\"hello\"}").arguments().size());
    }

    @Test
    void eachMistakeHasItsCodeAndKeepsTheIdWhenThereIsOne() {
        assertEquals(ErrorCode.INVALID_JSON, refused("{").code());
        assertEquals(ErrorCode.INVALID_REQUEST, refused("[1]").code());
        assertEquals(ErrorCode.INVALID_REQUEST, refused("{\"protocol\":1,\"command\":\"hello\"}").code());
        assertEquals(ErrorCode.INVALID_REQUEST, refused("{\"protocol\":1,\"id\":{},\"command\":\"hello\"}").code());
        assertEquals(ErrorCode.INVALID_REQUEST, refused("{\"protocol\":1,\"id\":\"" + "x".repeat(200) + "\",\"command\":\"hello\"}").code());
        ProtocolException version = refused("{\"protocol\":2,\"id\":3,\"command\":\"hello\"}");
        assertEquals(ErrorCode.UNSUPPORTED_VERSION, version.code());
        assertEquals(3, version.id().asInt());
        assertEquals(ErrorCode.UNKNOWN_COMMAND, refused("{\"protocol\":1,\"id\":3,\"command\":\"reboot\"}").code());
        assertEquals(ErrorCode.INVALID_ARGUMENTS, refused("{\"protocol\":1,\"id\":3,\"command\":\"scrub\",\"arguments\":[]}").code());
        assertNull(refused("{").id());
    }

    @Test
    void errorRepliesCarryTheWireNameOfTheCode() throws Exception {
        String line = AgentProtocol.error(null, ErrorCode.LINE_TOO_LONG, "too long");
        assertEquals("{\"protocol\":1,\"id\":null,\"error\":{\"code\":\"line_too_long\",\"message\":\"too long\"}}", line);
    }
}
