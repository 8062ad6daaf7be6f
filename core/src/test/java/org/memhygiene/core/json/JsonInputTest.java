package org.memhygiene.core.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.json.JsonInput.MalformedInputException;

/** The one strict reader: the same refusals for JSON and YAML, streaming and databind, each naming what it refused. */
class JsonInputTest {
    private static String refusedJson(String text) {
        String streaming = assertThrows(MalformedInputException.class, () -> JsonInput.readJson(text))
                .getMessage();
        String tree = assertThrows(
                        MalformedInputException.class,
                        () -> Json.readTree(text.getBytes(StandardCharsets.UTF_8), JsonInput.JSON))
                .getMessage();
        assertEquals(streaming, tree, "the streaming and the databind reader say the same");
        return streaming;
    }

    @Test
    void aDuplicateKeyIsRefusedAndNamed() {
        String message = refusedJson("{\"run\":1,\"run\":2}");
        assertTrue(message.startsWith("duplicate key 'run' at line 1"), message);
        assertTrue(refusedJson("{\"a\":{\"b\":1,\"b\":1}}").startsWith("duplicate key 'b'"));
        assertThrows(
                Exception.class,
                () -> Json.mapper().readTree("{\"run\":1,\"run\":2}"),
                "the shared mapper is strict too");
    }

    @Test
    void contentAfterTheDocumentIsRefused() throws Exception {
        assertTrue(refusedJson("{\"mode\":\"off\"} {\"mode\":\"adaptive\"}")
                .startsWith("trailing content after the document at line 1, column 16"));
        assertTrue(
                refusedJson("{\"mode\":\"off\"} garbage").contains("garbage"),
                "a token Jackson cannot read is its own error");
        assertThrows(Exception.class, () -> Json.mapper().readTree("{} {}"), "the shared mapper refuses it too");
        assertEquals(Map.of("a", 1), JsonInput.readJson(" {\"a\":1}\n\t "), "white space is not content");
    }

    @Test
    void bytesThatAreNotUtf8AreRefusedWithTheirOffset() throws Exception {
        byte[] ff = {'{', '"', 'a', '"', ':', '"', (byte) 0xff, '"', '}'};
        MalformedInputException e =
                assertThrows(MalformedInputException.class, () -> Json.readTree(ff, JsonInput.JSON));
        assertEquals("not UTF-8: byte 6 (0xff) is not part of a valid UTF-8 sequence", e.getMessage());
        // An encoded surrogate (CESU-8), which Jackson's own byte parser would accept.
        byte[] surrogate = {'"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"'};
        assertTrue(assertThrows(MalformedInputException.class, () -> JsonInput.utf8(surrogate))
                .getMessage()
                .startsWith("not UTF-8: byte 1"));
        byte[] overlong = {'"', (byte) 0xc0, (byte) 0xaf, '"'};
        assertThrows(MalformedInputException.class, () -> JsonInput.utf8(overlong));
        byte[] cut = {'"', 'a', (byte) 0xe2, (byte) 0x82};
        assertTrue(assertThrows(MalformedInputException.class, () -> JsonInput.utf8(cut))
                .getMessage()
                .startsWith("not UTF-8: byte 2"));
        assertEquals("\"€\"", JsonInput.utf8("\"€\"".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void yamlGetsTheSameRules() throws Exception {
        String duplicate = assertThrows(
                        MalformedInputException.class,
                        () -> Json.readTree(
                                "interval_millis: 100\ninterval_millis: 200\n".getBytes(StandardCharsets.UTF_8),
                                JsonInput.yaml()))
                .getMessage();
        assertTrue(duplicate.startsWith("duplicate key 'interval_millis' at line 2"), duplicate);
        String second = assertThrows(
                        MalformedInputException.class,
                        () -> Json.readTree("a: 1\n---\nb: 2\n".getBytes(StandardCharsets.UTF_8), JsonInput.yaml()))
                .getMessage();
        assertTrue(second.startsWith("trailing content after the document"), second);
        JsonNode empty = Json.readTree("# only a comment\n".getBytes(StandardCharsets.UTF_8), JsonInput.yaml());
        assertTrue(empty.isMissingNode());
        try (var parser = JsonInput.yaml().createParser("a: 1\na: 2\n")) {
            assertThrows(
                    MalformedInputException.class,
                    () -> JsonInput.readDocument(parser),
                    "the streaming YAML reader too");
        }
    }
}
