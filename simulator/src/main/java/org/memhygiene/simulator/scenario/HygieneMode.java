package org.memhygiene.simulator.scenario;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** What a guest does with memory it frees (docs/SIMULATOR.md, "Guest hygiene"). */
public enum HygieneMode {
    /** Freed pages keep their old content until reused. */
    NONE,
    /** The memhygiene agent zeroes free memory (periodically, after a large free, or when asked). */
    AGENT_SCRUB,
    /** The guest kernel zeroes every page it frees (init_on_free=1). */
    INIT_ON_FREE,
    /** The guest reports free blocks to the host, which discards them (virtio-balloon free page reporting). */
    FREE_PAGE_REPORTING;

    /** As written in scenario files: none, agent_scrub, init_on_free, free_page_reporting. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<HygieneMode> parse(String text) {
        return Arrays.stream(values()).filter(m -> m.label().equals(text)).findFirst();
    }

    public static String labels() {
        return Arrays.stream(values()).map(HygieneMode::label).collect(Collectors.joining(", "));
    }
}
