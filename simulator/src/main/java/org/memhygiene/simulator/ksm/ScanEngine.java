package org.memhygiene.simulator.ksm;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * How the simulated ksmd walks the pages. Both give identical counters, page states and timing
 * (docs/SIMULATOR.md, "Scan engines"); they differ only in the simulator's own work.
 */
public enum ScanEngine {
    /** Every page the cursor passes is looked at: the reference. */
    PAGE_BY_PAGE("page-by-page"),
    /** Pages whose visits have a determined outcome are passed by the block of 64 ({@link SettledPages}): the default. */
    SKIP_SETTLED("skip-settled");

    private final String label;

    ScanEngine(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static Optional<ScanEngine> parse(String text) {
        return Arrays.stream(values())
                .filter(e -> e.label.equals(text.toLowerCase(Locale.ROOT)))
                .findFirst();
    }

    /** The labels, for messages and --help. */
    public static String labels() {
        return String.join(", ", Arrays.stream(values()).map(ScanEngine::label).toList());
    }
}
