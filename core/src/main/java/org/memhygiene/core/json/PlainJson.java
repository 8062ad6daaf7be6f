package org.memhygiene.core.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON values as plain Java objects, read and written with Jackson's streaming API (jackson-core) alone:
 * an object is a {@code Map<String, Object>} in document order (a repeated key keeps its first place and
 * its last value, as databind's tree does), an array a {@code List<Object>}, a string a String, an
 * integer an Integer, Long or BigInteger (the smallest that holds it), any other number a Double, true
 * and false a Boolean, null {@code null}. The guest agent's serving path uses this instead of databind's
 * tree: databind's classes alone cost the agent about 12 MiB of RSS (docs/PERFORMANCE.md). Input from
 * outside is read with {@link JsonInput#readDocument}, which refuses repeated keys.
 */
public final class PlainJson {
    private PlainJson() {}

    /** The value at the parser's next token; null also at the end of input (an empty document). */
    public static Object read(JsonParser parser) throws IOException {
        JsonToken token = parser.nextToken();
        return token == null ? null : value(parser, token);
    }

    private static Object value(JsonParser parser, JsonToken token) throws IOException {
        return switch (token) {
            case START_OBJECT -> {
                Map<String, Object> object = new LinkedHashMap<>();
                for (String name = parser.nextFieldName(); name != null; name = parser.nextFieldName()) {
                    object.put(name, value(parser, parser.nextToken()));
                }
                yield object;
            }
            case START_ARRAY -> {
                List<Object> array = new ArrayList<>();
                for (JsonToken next = parser.nextToken(); next != JsonToken.END_ARRAY; next = parser.nextToken()) {
                    array.add(value(parser, next));
                }
                yield array;
            }
            case VALUE_STRING -> parser.getText();
            case VALUE_NUMBER_INT -> parser.getNumberValue();
            case VALUE_NUMBER_FLOAT -> parser.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            default -> throw new IOException("unexpected " + token + " at " + parser.currentLocation());
        };
    }

    /** Whether {@code value} is a JSON integer that fits a long. */
    public static boolean isLong(Object value) {
        return isInteger(value) && (!(value instanceof BigInteger big) || big.bitLength() < Long.SIZE);
    }

    /** Whether {@code value} is a JSON integer (of any size). */
    public static boolean isInteger(Object value) {
        return value instanceof Integer || value instanceof Long || value instanceof BigInteger;
    }

    /** One line of JSON, e.g. for an error message that quotes what it was given. */
    public static String toJson(Object value) {
        StringWriter text = new StringWriter();
        try (JsonGenerator generator = JsonInput.JSON.createGenerator(text)) {
            write(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return text.toString();
    }

    /** Writes a value of the kinds {@link #read} returns (any Map and any Iterable as well). */
    public static void write(JsonGenerator generator, Object value) throws IOException {
        if (value == null) {
            generator.writeNull();
        } else if (value instanceof String text) {
            generator.writeString(text);
        } else if (value instanceof Boolean bool) {
            generator.writeBoolean(bool);
        } else if (value instanceof Integer || value instanceof Long) {
            generator.writeNumber(((Number) value).longValue());
        } else if (value instanceof BigInteger big) {
            generator.writeNumber(big);
        } else if (value instanceof Double d) {
            generator.writeNumber(d);
        } else if (value instanceof Map<?, ?> map) {
            generator.writeStartObject();
            for (Map.Entry<?, ?> field : map.entrySet()) {
                generator.writeFieldName(String.valueOf(field.getKey()));
                write(generator, field.getValue());
            }
            generator.writeEndObject();
        } else if (value instanceof Iterable<?> items) {
            generator.writeStartArray();
            for (Object item : items) {
                write(generator, item);
            }
            generator.writeEndArray();
        } else {
            throw new IllegalArgumentException(
                    "not a plain JSON value: " + value.getClass().getName());
        }
    }
}
