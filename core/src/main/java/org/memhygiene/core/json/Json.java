package org.memhygiene.core.json;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import org.memhygiene.core.json.JsonInput.MalformedInputException;

/**
 * The project's one JSON configuration: snake_case keys (as in sysfs and /proc), absent values as
 * null so every documented key is always present, and unknown input fields rejected. It reads with
 * {@link JsonInput}'s strict parser configuration: a duplicate key or content after the document is an
 * error, also through {@code mapper().readTree(String)}.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonInput.jsonFactory())
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    private Json() {}

    /** A shared, thread-safe mapper; do not reconfigure it. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * {@code bytes} (UTF-8, checked strictly) as one document of {@code format} ({@link JsonInput#JSON} or
     * {@link JsonInput#yaml()}); an empty document is a {@link MissingNode}. Every problem (not UTF-8, a
     * syntax error, a duplicate key, trailing content) is a {@link MalformedInputException} naming it.
     */
    public static JsonNode readTree(byte[] bytes, JsonFactory format) throws MalformedInputException {
        String text = JsonInput.utf8(bytes);
        try (JsonParser parser = format.createParser(text)) {
            // The end is checked below, so that both readers name trailing content the same way.
            JsonNode node = MAPPER.reader()
                    .without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readTree(parser);
            if (node == null) {
                return MissingNode.getInstance();
            }
            JsonInput.requireEnd(parser);
            return node;
        } catch (JacksonException e) {
            throw JsonInput.malformed(e);
        } catch (MalformedInputException e) {
            throw e;
        } catch (IOException e) {
            throw new MalformedInputException(e.getMessage(), e); // a String does not fail to read
        }
    }
}
