package org.memhygiene.core.units;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte counts for people: binary units (KiB, MiB, GiB, TiB), as free(1) and the kernel's docs use. */
public final class ByteSize {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    private static final Pattern SIZE = Pattern.compile("(\\d{1,18})\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);

    private ByteSize() {}

    /**
     * "4096", "512K", "256M", "1G", "2GiB" (K/M/G/T are powers of 1024, as for memory everywhere in
     * Linux) to bytes; anything else is an IllegalArgumentException naming the text and the format.
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size: expected a whole number with an"
                    + " optional K, M, G or T suffix (powers of 1024), e.g. 512M or 2G");
        }
        int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        long number = Long.parseLong(m.group(1));
        if (number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + text + "' is too large a size");
        }
        return number << shift;
    }

    /** "512 B", "4.0 KiB", "1.5 GiB"; negative values keep their sign. */
    public static String format(long bytes) {
        long magnitude = Math.abs(bytes);
        if (magnitude < 1024) {
            return bytes + " B";
        }
        double value = magnitude;
        int unit = 0;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        return (bytes < 0 ? "-" : "") + String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
    }
}
