package org.memhygiene.core.json;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.TSFBuilder;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The project's one configuration for reading JSON and YAML from outside: API request bodies, agent
 * protocol lines (both sides) and configuration files. Whatever reads one of them goes through here, so
 * they all refuse the same things, each with a message that names it:
 * <ul>
 * <li>a key given twice in one object ({@code {"run":1,"run":2}}): Jackson's strict duplicate detection;</li>
 * <li>anything after the one document: a second object on the same line, {@code garbage} after the
 * body, a second YAML document after {@code ---};</li>
 * <li>bytes that are not UTF-8 (RFC 8259 section 8.1), by a strict decoder that also refuses encoded
 * surrogates and overlong forms, which Jackson's own byte parser lets through.</li>
 * </ul>
 * Streaming API only (jackson-core; the YAML factory is created on first use): the guest agent reads
 * its protocol with this and must not load databind (docs/PERFORMANCE.md "Guest agent: footprint").
 * {@code Json.mapper()} is built on {@link #jsonFactory()} and reads trees with {@code Json.readTree}.
 */
public final class JsonInput {
    /** The strict JSON factory; thread-safe, shared. Do not hand it to an ObjectMapper (that sets its codec). */
    public static final JsonFactory JSON = jsonFactory();

    private JsonInput() {}

    /** Input that is not one well-formed document; the message says what is wrong and where. */
    public static final class MalformedInputException extends IOException {
        public MalformedInputException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A new JSON factory with the strict configuration, e.g. for an ObjectMapper of its own. */
    public static JsonFactory jsonFactory() {
        return strict(new JsonFactoryBuilder()).build();
    }

    /** The strict YAML factory (configuration files); loads the YAML parser on the first call only. */
    public static JsonFactory yaml() {
        return Yaml.FACTORY;
    }

    private static <B extends TSFBuilder<?, B>> B strict(B builder) {
        return builder.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
    }

    /** A class of its own so that nothing of the YAML parser is loaded until a YAML file is read. */
    private static final class Yaml {
        static final JsonFactory FACTORY = strict(YAMLFactory.builder()).build();
    }

    /** {@code bytes} as text, or which byte is not UTF-8. */
    public static String utf8(byte[] bytes) throws MalformedInputException {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return decoder.decode(in).toString();
        } catch (CharacterCodingException e) {
            int offset = firstInvalidByte(bytes);
            throw new MalformedInputException(
                    "not UTF-8: byte " + offset + " (0x" + String.format("%02x", bytes[offset] & 0xff)
                            + ") is not part of a valid UTF-8 sequence",
                    e);
        }
    }

    /** Where the first malformed sequence starts: decoded again, one code point at a time. */
    private static int firstInvalidByte(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(2);
        while (in.hasRemaining()) {
            out.clear();
            int before = in.position();
            if (decoder.decode(in, out, false).isError()) {
                return in.position();
            }
            if (in.position() == before) {
                return before; // an incomplete sequence at the end
            }
        }
        return Math.max(0, bytes.length - 1);
    }

    /**
     * The one document {@code parser} holds, as {@link PlainJson} values (null for an empty document);
     * a duplicate key, a syntax error or anything after the document is a {@link MalformedInputException}.
     */
    public static Object readDocument(JsonParser parser) throws MalformedInputException {
        try {
            Object value = PlainJson.read(parser);
            requireEnd(parser);
            return value;
        } catch (JacksonException e) {
            throw malformed(e);
        } catch (MalformedInputException e) {
            throw e;
        } catch (IOException e) {
            throw new MalformedInputException(e.getMessage(), e);
        }
    }

    /** Text as one JSON document ({@link #readDocument}). */
    public static Object readJson(String text) throws MalformedInputException {
        try (JsonParser parser = JSON.createParser(text)) {
            return readDocument(parser);
        } catch (MalformedInputException e) {
            throw e;
        } catch (IOException e) {
            throw new MalformedInputException(e.getMessage(), e); // a String does not fail to read
        }
    }

    /** Fails unless the parser has reached the end of its input after a value. */
    public static void requireEnd(JsonParser parser) throws IOException {
        JsonToken after = parser.nextToken();
        if (after != null) {
            throw new MalformedInputException(
                    "trailing content after the document" + where(parser.currentTokenLocation())
                            + ": one document only",
                    null);
        }
    }

    /** A parser's complaint as a MalformedInputException: Jackson's message without its source dump, with where. */
    public static MalformedInputException malformed(JacksonException e) {
        String message = e.getOriginalMessage();
        if (message != null && message.startsWith("Duplicate field '")) {
            message = "duplicate key " + message.substring("Duplicate field ".length());
        }
        return new MalformedInputException(message + where(e.getLocation()), e);
    }

    private static String where(JsonLocation location) {
        return location == null || location.getLineNr() < 0
                ? ""
                : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
