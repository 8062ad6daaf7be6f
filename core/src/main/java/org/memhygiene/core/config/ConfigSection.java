package org.memhygiene.core.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.memhygiene.core.json.JsonInput;
import org.memhygiene.core.json.PlainJson;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.core.units.Durations;

/**
 * The project's one reader of configuration files (the daemon's memhygiene.yaml, the policy file): one
 * mapping of the file, its keys checked against the known ones, typed readers with ranges, each mistake an
 * IllegalArgumentException naming the key ({@code history.retention}), the value and what was expected. A
 * renamed key is still read under its old name, with a one-line deprecation warning ({@link #renamed}).
 * Values are {@link PlainJson} values read by the strict {@link JsonInput} (a key given twice, a second
 * document or bytes that are not UTF-8 are errors); durations are text with a unit ({@code 10s}, {@code 168h}).
 */
public final class ConfigSection {
    /** A configuration file is a few hundred bytes; anything near this is not one. */
    public static final long MAX_FILE_BYTES = 1024 * 1024;

    private final String prefix;
    private final Map<?, ?> values;
    private final Consumer<String> warnings;

    private ConfigSection(String prefix, Map<?, ?> values, Consumer<String> warnings) {
        this.prefix = prefix;
        this.values = values;
        this.warnings = warnings;
    }

    /**
     * The top mapping of {@code file} (an empty file or one of comments only: no keys), its keys checked;
     * {@code warnings} gets each deprecation warning. A file that cannot be read, is too large or is not YAML
     * is an IllegalArgumentException; callers prefix every message with the file's path.
     */
    public static ConfigSection read(Path file, List<String> keys, Consumer<String> warnings) {
        Object document;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(
                        "larger than " + MAX_FILE_BYTES + " bytes: not a configuration file");
            }
            try (var parser = JsonInput.yaml().createParser(JsonInput.utf8(Files.readAllBytes(file)))) {
                document = JsonInput.readDocument(parser);
            }
        } catch (JsonInput.MalformedInputException e) {
            throw new IllegalArgumentException("not YAML: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read it: " + e.getMessage(), e);
        }
        return checked("", document == null ? Map.of() : document, keys, warnings); // null: empty, or comments only
    }

    private static ConfigSection checked(String prefix, Object node, List<String> keys, Consumer<String> warnings) {
        if (!(node instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(
                    (prefix.isEmpty() ? "the file" : prefix.substring(0, prefix.length() - 1))
                            + " = " + abbreviate(PlainJson.toJson(node)) + ": expected a mapping with the keys "
                            + keys.stream().map(key -> prefix + key).toList());
        }
        for (Object name : map.keySet()) {
            if (!keys.contains(name)) {
                throw new IllegalArgumentException(
                        "unknown key \"" + prefix + abbreviate(String.valueOf(name)) + "\"; expected one of "
                                + keys.stream().map(key -> prefix + key).toList());
            }
        }
        return new ConfigSection(prefix, map, warnings);
    }

    /** The mapping at {@code key}, its keys checked; absent or null: an empty one. */
    public ConfigSection section(String key, List<String> keys) {
        Object child = values.get(key);
        return checked(prefix + key + ".", child == null ? Map.of() : child, keys, warnings);
    }

    public boolean has(String key) {
        return values.get(key) != null;
    }

    /** The value as read, for a key whose reading is the caller's own (a word that YAML may read as false). */
    public Optional<Object> value(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** A mistake in {@code key}: its name, the value as JSON and what was expected. */
    public IllegalArgumentException wrong(String key, Object value, String expected) {
        return new IllegalArgumentException(
                prefix + key + " = " + abbreviate(PlainJson.toJson(value)) + ": expected " + expected);
    }

    public long whole(String key, long otherwise, long min, long max) {
        Object value = values.get(key);
        if (value == null) {
            return otherwise;
        }
        String expected = "a whole number from " + min + " to " + max;
        if (!PlainJson.isLong(value)) {
            throw wrong(key, value, expected);
        }
        long n = ((Number) value).longValue();
        if (n < min || n > max) {
            throw wrong(key, value, expected);
        }
        return n;
    }

    public double decimal(String key, double otherwise, double min, double max) {
        Object value = values.get(key);
        if (value == null) {
            return otherwise;
        }
        String expected = "a number from " + plain(min) + " to " + plain(max);
        if (!(value instanceof Number number)
                || Double.isNaN(number.doubleValue())
                || number.doubleValue() < min
                || number.doubleValue() > max) {
            throw wrong(key, value, expected);
        }
        return number.doubleValue();
    }

    /** Bytes: a whole number or text with a binary suffix (512M). */
    public long bytes(String key, long otherwise, long min) {
        Object value = values.get(key);
        if (value == null) {
            return otherwise;
        }
        String expected = "bytes, at least " + ByteSize.format(min) + ", e.g. 536870912 or 512M";
        long n;
        if (PlainJson.isLong(value)) {
            n = ((Number) value).longValue();
        } else if (value instanceof String text) {
            try {
                n = ByteSize.parse(text);
            } catch (IllegalArgumentException e) {
                throw wrong(key, value, expected);
            }
        } else {
            throw wrong(key, value, expected);
        }
        if (n < min) {
            throw wrong(key, value, expected);
        }
        return n;
    }

    /** A duration: text with ms, s, m or h ({@code 10s}); a bare number is refused (seconds or milliseconds?). */
    public Duration duration(String key, Duration otherwise, Duration min, Duration max) {
        Object value = values.get(key);
        if (value == null) {
            return otherwise;
        }
        String expected =
                "a duration from " + human(min) + " to " + human(max) + " with ms, s, m or h, e.g. 60s or 10m";
        if (!(value instanceof String text)) {
            throw wrong(key, value, expected);
        }
        Duration d;
        try {
            d = Durations.parse(text, "s");
        } catch (IllegalArgumentException e) {
            throw wrong(key, value, expected);
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw wrong(key, value, expected);
        }
        return d;
    }

    /**
     * A duration under {@code key}, or under {@code oldMillisKey}, its name before it lost the unit it did not
     * keep ({@code interval_millis: 1s}): there a whole number of milliseconds or text with a unit, as it always
     * was, with a one-line deprecation warning. Both given is a mistake.
     */
    public Duration renamed(String key, String oldMillisKey, Duration otherwise, Duration min, Duration max) {
        Object old = values.get(oldMillisKey);
        if (old == null) {
            return duration(key, otherwise, min, max);
        }
        if (has(key)) {
            throw new IllegalArgumentException(
                    prefix + key + " and " + prefix + oldMillisKey + " are the same setting: keep " + prefix + key);
        }
        String expected = "expected " + min.toMillis() + " to " + max.toMillis() + " milliseconds, e.g. 1000 or 1s";
        Duration d;
        if (PlainJson.isLong(old)) {
            d = Duration.ofMillis(((Number) old).longValue());
        } else if (old instanceof String text) {
            try {
                d = Durations.parse(text, "ms");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        prefix + oldMillisKey + " = " + PlainJson.toJson(old) + ": " + e.getMessage(), e);
            }
        } else {
            throw new IllegalArgumentException(
                    prefix + oldMillisKey + " = " + abbreviate(PlainJson.toJson(old)) + ": " + expected);
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new IllegalArgumentException(
                    prefix + oldMillisKey + " = " + abbreviate(PlainJson.toJson(old)) + ": " + expected);
        }
        warnings.accept(prefix + oldMillisKey + " is deprecated: write " + prefix + key + ": " + human(d)
                + " (the same setting, with its unit)");
        return d;
    }

    public boolean bool(String key, boolean otherwise) {
        Object value = values.get(key);
        if (value == null) {
            return otherwise;
        }
        if (!(value instanceof Boolean b)) {
            throw wrong(key, value, "true or false");
        }
        return b;
    }

    /** Non-empty text. */
    public Optional<String> text(String key) {
        Object value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String text) || text.isBlank()) {
            throw wrong(key, value, "a non-empty string");
        }
        return Optional.of(text);
    }

    public int port(String key, int otherwise) {
        return (int) whole(key, otherwise, 0, 65535);
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }

    private static String plain(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }

    private static String human(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.toHours() > 0 && d.equals(Duration.ofHours(d.toHours()))) {
            return d.toHours() + "h";
        }
        if (d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        return d.toSeconds() + "s";
    }
}
