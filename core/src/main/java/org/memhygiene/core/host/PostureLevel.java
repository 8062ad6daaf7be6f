package org.memhygiene.core.host;

import java.util.Locale;
import java.util.Optional;

/** The posture a domain declares in its memhygiene metadata (see vm-configs/*.xml). */
public enum PostureLevel {
    DENSE,
    BALANCED,
    SENSITIVE;

    /** The level for the attribute text, or empty for anything else (the XML is guest-influenced). */
    public static Optional<PostureLevel> parse(String text) {
        for (PostureLevel level : values()) {
            if (level.name().toLowerCase(Locale.ROOT).equals(text)) {
                return Optional.of(level);
            }
        }
        return Optional.empty();
    }
}
