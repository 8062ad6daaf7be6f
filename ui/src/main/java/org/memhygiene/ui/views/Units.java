package org.memhygiene.ui.views;

import java.util.Locale;
import java.util.OptionalLong;

/** Display formats: binary sizes as everywhere in memhygiene (GiB = 2^30 bytes). */
public final class Units {

    private Units() {}

    public static String bytes(long bytes) {
        double v = bytes;
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    public static String bytes(OptionalLong bytes) {
        return bytes.isPresent() ? bytes(bytes.getAsLong()) : "–";
    }

    public static String count(OptionalLong value) {
        return value.isPresent() ? String.format(Locale.ROOT, "%,d", value.getAsLong()) : "–";
    }
}
