package org.memhygiene.bench.e2e;

import java.util.Locale;
import java.util.Map;

/** Byte counts as the suite prints them: mebibytes with one decimal. */
final class Mib {
    static final long BYTES = 1024 * 1024;

    private Mib() {}

    static String format(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) BYTES);
    }

    /** "guest 12.0 MiB, guest 13.0 MiB", in the map's order. */
    static String format(Map<String, Long> bytes) {
        return String.join(
                ", ",
                bytes.entrySet().stream()
                        .map(e -> e.getKey() + " " + format(e.getValue()))
                        .toList());
    }
}
