package org.memhygiene.core.units;

/** A count with its noun, as every line of text writes it: "1 VM", "3 VMs", "0 full scans". */
public final class Count {
    private Count() {}

    /** {@code n} and {@code noun}, with an "s" unless {@code n} is 1 (the nouns counted here all take one). */
    public static String of(long n, String noun) {
        return of(n, noun, noun + "s");
    }

    /** {@code n} and {@code singular} or {@code plural}: "1 process", "3 processes". */
    public static String of(long n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }
}
