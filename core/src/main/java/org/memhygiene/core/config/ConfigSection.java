package org.memhygiene.core.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.memhygiene.core.json.JsonInput;
import org.memhygiene.core.json.PlainJson;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.core.units.Durations;

/**
 * The project's one reader of configuration files (the daemon's memhygiene.yaml, the policy file, the agent's
 * agent.yaml, simulator scenarios): one mapping of the file, its keys checked against the known ones, typed
 * readers with ranges, each mistake a {@link ConfigException} naming the key ({@code history.retention},
 * {@code guests[2].memory}), the value and what was expected. A
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
        return parse(readFile(file, "configuration file"), keys, warnings);
    }

    /**
     * The bytes of a file the admin named, of at most {@link #MAX_FILE_BYTES}; else a ConfigException
     * saying why ("cannot read it: no such file or directory", "larger than … bytes: not a {@code kind}").
     */
    public static byte[] readFile(Path file, String kind) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigException("", "larger than " + MAX_FILE_BYTES + " bytes: not a " + kind);
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read it: " + Errno.describe(e), e);
        }
    }

    /** The top mapping of a configuration document already in memory (a resource, a test), as {@link #read}. */
    public static ConfigSection parse(byte[] yaml, List<String> keys, Consumer<String> warnings) {
        Object document;
        try (var parser = JsonInput.yaml().createParser(JsonInput.utf8(yaml))) {
            document = JsonInput.readDocument(parser);
        } catch (JsonInput.MalformedInputException e) {
            throw new ConfigException("", "not YAML: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read it: " + e.getMessage(), e);
        }
        return checked("", document == null ? Map.of() : document, keys, warnings); // null: empty, or comments only
    }

    private static ConfigSection checked(String prefix, Object node, List<String> keys, Consumer<String> warnings) {
        String here = prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
        if (!(node instanceof Map<?, ?> map)) {
            throw new ConfigException(
                    here,
                    (here.isEmpty() ? "the file" : here)
                            + " = " + abbreviate(PlainJson.toJson(node)) + ": expected a mapping with the keys "
                            + keys.stream().map(key -> prefix + key).toList());
        }
        for (Object name : map.keySet()) {
            if (!keys.contains(name)) {
                throw new ConfigException(
                        prefix + name,
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

    /** The mapping at {@code key}, its keys checked, if the file has one. */
    public Optional<ConfigSection> optionalSection(String key, List<String> keys) {
        return has(key) ? Optional.of(section(key, keys)) : Optional.empty();
    }

    /**
     * The mappings of the list at {@code key} ({@code guests[0]}, {@code guests[1]} …), each one's keys checked,
     * each taking the keys it does not give from {@code defaults} (mappings within merged the same way); absent:
     * an empty list.
     */
    public List<ConfigSection> sections(String key, List<String> keys, Optional<ConfigSection> defaults) {
        Object value = values.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw wrong(key, value, "a list of mappings");
        }
        List<ConfigSection> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Object entry = list.get(i);
            Object merged =
                    defaults.isPresent() && entry instanceof Map<?, ?> map ? merge(defaults.get().values, map) : entry;
            result.add(checked(prefix + key + "[" + i + "].", merged == null ? Map.of() : merged, keys, warnings));
        }
        return result;
    }

    private static Map<Object, Object> merge(Map<?, ?> defaults, Map<?, ?> given) {
        Map<Object, Object> result = new LinkedHashMap<>(defaults);
        given.forEach((k, v) -> result.merge(
                k, v, (base, over) -> base instanceof Map<?, ?> b && over instanceof Map<?, ?> o ? merge(b, o) : over));
        return result;
    }

    /** A list of non-empty strings at {@code key}; absent: empty. */
    public List<String> texts(String key) {
        Object value = values.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)
                || list.isEmpty()
                || !list.stream().allMatch(v -> v instanceof String text && !text.isBlank())) {
            throw wrong(key, value, "a list of names");
        }
        return list.stream().map(String.class::cast).toList();
    }

    /** The keys this mapping gives, in the file's order. */
    public List<String> keys() {
        return values.keySet().stream().map(String::valueOf).toList();
    }

    /** {@code key}'s full name in the file ({@code guests[2].memory}). */
    public String path(String key) {
        return prefix + key;
    }

    /** Each of {@code keys} must be given. */
    public ConfigSection require(String... keys) {
        for (String key : keys) {
            if (!has(key)) {
                throw new ConfigException(prefix + key, prefix + key + ": required");
            }
        }
        return this;
    }

    /** A value of {@code key} that the caller found wrong, for {@code reason}. */
    public ConfigException invalid(String key, String reason) {
        return new ConfigException(prefix + key, prefix + key + ": " + reason);
    }

    /** This mapping as a whole is wrong, for {@code reason} (its keys do not fit together). */
    public ConfigException invalid(String reason) {
        String here = prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
        return new ConfigException(here, (here.isEmpty() ? "the file" : here) + ": " + reason);
    }

    public boolean has(String key) {
        return values.get(key) != null;
    }

    /** The value as read, for a key whose reading is the caller's own (a word that YAML may read as false). */
    public Optional<Object> value(String key) {
        return Optional.ofNullable(values.get(key));
    }

    /** A mistake in {@code key}: its name, the value as JSON and what was expected. */
    public ConfigException wrong(String key, Object value, String expected) {
        return new ConfigException(
                prefix + key, prefix + key + " = " + abbreviate(PlainJson.toJson(value)) + ": expected " + expected);
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
        return bytes(key, otherwise, min, "");
    }

    /** Bytes per second: as {@link #bytes}, with or without {@code /s} (256MiB/s). */
    public long bytesPerSecond(String key, long otherwise, long min) {
        return bytes(key, otherwise, min, "/s");
    }

    private long bytes(String key, long otherwise, long min, String per) {
        Object value = values.get(key);
        if (value == null) {
            return otherwise;
        }
        String expected = "bytes" + (per.isEmpty() ? "" : " per second") + ", at least " + ByteSize.format(min) + per
                + ", e.g. 536870912" + per + " or 512M" + per;
        long n;
        if (PlainJson.isLong(value)) {
            n = ((Number) value).longValue();
        } else if (value instanceof String text) {
            String size = !per.isEmpty() && text.strip().endsWith(per)
                    ? text.strip().substring(0, text.strip().length() - per.length())
                    : text;
            try {
                n = ByteSize.parse(size);
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
            throw new ConfigException(
                    prefix + key,
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
                throw new ConfigException(
                        prefix + oldMillisKey,
                        prefix + oldMillisKey + " = " + PlainJson.toJson(old) + ": " + e.getMessage(),
                        e);
            }
        } else {
            throw new ConfigException(
                    prefix + oldMillisKey,
                    prefix + oldMillisKey + " = " + abbreviate(PlainJson.toJson(old)) + ": " + expected);
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(
                    prefix + oldMillisKey,
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
