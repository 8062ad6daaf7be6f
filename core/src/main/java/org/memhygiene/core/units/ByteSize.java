package org.memhygiene.core.units;

import java.util.Locale;

/** Byte counts for people: binary units (KiB, MiB, GiB, TiB), as free(1) and the kernel's docs use. */
public final class ByteSize {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private ByteSize() {
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
