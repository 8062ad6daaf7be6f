package org.memhygiene.core.host;

import java.util.Locale;
import java.util.Optional;

/** The posture a domain declares in its memhygiene metadata (see vm-configs/*.xml). */
public enum PostureLevel {
    DENSE,
    BALANCED,
    SENSITIVE;

    /** As the domain XML's attribute writes it, and as a person reads it: "dense". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The level for the attribute text, or empty for anything else (the XML is guest-influenced). */
    public static Optional<PostureLevel> parse(String text) {
        for (PostureLevel level : values()) {
            if (level.label().equals(text)) {
                return Optional.of(level);
            }
        }
        return Optional.empty();
    }
}
