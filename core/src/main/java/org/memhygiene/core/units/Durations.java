package org.memhygiene.core.units;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations for people: "500ms", "2s", "10m", "1h"; a bare number is in {@code bareUnit}. */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)?");

    private Durations() {}

    /** Parses {@code text}; zero is allowed (callers that need a positive duration check it). */
    public static Duration parse(String text, String bareUnit) {
        Matcher m = FORMAT.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration: expected a whole number with ms, s, m"
                    + " or h, e.g. 500ms or 2s");
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2) == null ? bareUnit : m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofSeconds(amount);
        };
    }
}
