package org.memhygiene.bench.e2e;

import java.util.Locale;

/** One assertion of a phase, with the figures it was decided on: in the report and, failed, in the JUnit failure. */
record Check(boolean held, String text) {
    static Check of(boolean held, String format, Object... args) {
        return new Check(held, String.format(Locale.ROOT, format, args));
    }

    /** This check with {@code more} after its text ("" adds nothing). */
    Check saying(String more) {
        return new Check(held, text + more);
    }
}
