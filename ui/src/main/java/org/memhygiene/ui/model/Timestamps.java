package org.memhygiene.ui.model;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Times as the dashboard writes them: UTC to the second, marked Z, as its charts' time axes are UTC. */
public final class Timestamps {
    private static final DateTimeFormatter UTC_SECONDS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private Timestamps() {}

    /** {@code t} as "2026-12-07 16:56:21Z". */
    public static String utc(Instant t) {
        return UTC_SECONDS.format(t);
    }
}
