package org.memhygiene.simulator.ksm;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmWriteRules;

/**
 * The simulated /sys/kernel/mm/ksm knobs, with the kernel's defaults (mm/ksm.c) and its rules for
 * changing them. The advisor knobs are kept and shown but the advisor is not simulated.
 */
public final class KsmKnobs {
    private final Map<KsmKnob, String> values = new EnumMap<>(KsmKnob.class);
    /** The numeric knobs parsed once per write: ksmd reads several at every wake. */
    private final long[] numbers = new long[KsmKnob.values().length];

    /** The kernel's defaults (mm/ksm.c); run=0 until the scenario's knobs are applied. */
    private static final Map<KsmKnob, String> DEFAULTS = Map.ofEntries(
            Map.entry(KsmKnob.RUN, "0"),
            Map.entry(KsmKnob.ADVISOR_MODE, "none"),
            Map.entry(KsmKnob.MERGE_ACROSS_NODES, "1"),
            Map.entry(KsmKnob.MAX_PAGE_SHARING, "256"),
            Map.entry(KsmKnob.PAGES_TO_SCAN, "100"),
            Map.entry(KsmKnob.SLEEP_MILLISECS, "20"),
            Map.entry(KsmKnob.USE_ZERO_PAGES, "0"),
            Map.entry(KsmKnob.SMART_SCAN, "1"),
            Map.entry(KsmKnob.STABLE_NODE_CHAINS_PRUNE_MILLISECS, "2000"),
            Map.entry(KsmKnob.ADVISOR_MAX_CPU, "70"),
            Map.entry(KsmKnob.ADVISOR_MIN_PAGES_TO_SCAN, "500"),
            Map.entry(KsmKnob.ADVISOR_MAX_PAGES_TO_SCAN, "30000"),
            Map.entry(KsmKnob.ADVISOR_TARGET_SCAN_TIME, "200"));

    public KsmKnobs() {
        DEFAULTS.forEach(this::set);
    }

    /** The value before, or null. */
    private String set(KsmKnob knob, String value) {
        // Every knob but advisor_mode is a number (validated before it gets here).
        numbers[knob.ordinal()] = knob == KsmKnob.ADVISOR_MODE ? -1 : Long.parseLong(value);
        return values.put(knob, value);
    }

    public long number(KsmKnob knob) {
        if (knob == KsmKnob.ADVISOR_MODE) {
            throw new IllegalArgumentException(knob.fileName() + " is not a number");
        }
        return numbers[knob.ordinal()];
    }

    public boolean flag(KsmKnob knob) {
        return number(knob) == 1;
    }

    public String text(KsmKnob knob) {
        return values.get(knob);
    }

    public int run() {
        return (int) number(KsmKnob.RUN);
    }

    public long pagesToScan() {
        return number(KsmKnob.PAGES_TO_SCAN);
    }

    public long sleepMillisecs() {
        return number(KsmKnob.SLEEP_MILLISECS);
    }

    public int maxPageSharing() {
        return (int) Math.min(Integer.MAX_VALUE, number(KsmKnob.MAX_PAGE_SHARING));
    }

    public boolean mergeAcrossNodes() {
        return flag(KsmKnob.MERGE_ACROSS_NODES);
    }

    public boolean useZeroPages() {
        return flag(KsmKnob.USE_ZERO_PAGES);
    }

    public boolean smartScan() {
        return flag(KsmKnob.SMART_SCAN);
    }

    /**
     * Applies validated settings in their write order, as the kernel would, refusing what it refuses
     * ({@link KsmWriteRules}: a {@link org.memhygiene.core.host.HostRefusedException}, as on the real host).
     * {@code unmergeAll} runs when run=2 is written, before the knobs after it. All or nothing: a refused
     * knob changes nothing.
     */
    public List<KsmChange> apply(KsmSettings settings, LongSupplier pagesShared, Runnable unmergeAll) {
        KsmWriteRules.check(settings, knob -> Optional.ofNullable(values.get(knob)), pagesShared.getAsLong());
        List<Map.Entry<KsmKnob, String>> order = settings.inWriteOrder();
        List<KsmChange> changes = new ArrayList<>();
        for (Map.Entry<KsmKnob, String> e : order) {
            String before = set(e.getKey(), e.getValue());
            if (e.getKey() == KsmKnob.RUN && Long.parseLong(e.getValue()) == KsmKnob.RUN_UNMERGE) {
                unmergeAll.run();
            }
            changes.add(new KsmChange(e.getKey(), before, e.getValue()));
        }
        return changes;
    }
}
