package org.memhygiene.simulator.ksm;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;

/**
 * The simulated /sys/kernel/mm/ksm knobs, with the kernel's defaults (mm/ksm.c) and its rules for
 * changing them. The advisor knobs are kept and shown but the advisor is not simulated.
 */
public final class KsmKnobs {
    private final Map<KsmKnob, String> values = new EnumMap<>(KsmKnob.class);

    public KsmKnobs() {
        values.put(KsmKnob.RUN, "0");
        values.put(KsmKnob.ADVISOR_MODE, "none");
        values.put(KsmKnob.MERGE_ACROSS_NODES, "1");
        values.put(KsmKnob.MAX_PAGE_SHARING, "256");
        values.put(KsmKnob.PAGES_TO_SCAN, "100");
        values.put(KsmKnob.SLEEP_MILLISECS, "20");
        values.put(KsmKnob.USE_ZERO_PAGES, "0");
        values.put(KsmKnob.SMART_SCAN, "1");
        values.put(KsmKnob.STABLE_NODE_CHAINS_PRUNE_MILLISECS, "2000");
        values.put(KsmKnob.ADVISOR_MAX_CPU, "70");
        values.put(KsmKnob.ADVISOR_MIN_PAGES_TO_SCAN, "500");
        values.put(KsmKnob.ADVISOR_MAX_PAGES_TO_SCAN, "30000");
        values.put(KsmKnob.ADVISOR_TARGET_SCAN_TIME, "200");
    }

    public long number(KsmKnob knob) {
        return Long.parseLong(values.get(knob));
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
     * Applies validated settings in their write order, as the kernel would: merge_across_nodes and
     * max_page_sharing refuse to change while pages_shared is not 0 (EBUSY, mm/ksm.c
     * merge_across_nodes_store / max_page_sharing_store), so unmerge first with run=2; pages_to_scan
     * refuses while advisor_mode is scan-time. {@code unmergeAll} runs when run=2 is written, before
     * the knobs after it. All or nothing: a refused knob changes nothing.
     */
    public List<KsmChange> apply(KsmSettings settings, java.util.function.LongSupplier pagesShared, Runnable unmergeAll) {
        List<Map.Entry<KsmKnob, String>> order = settings.inWriteOrder();
        boolean unmergesFirst = !order.isEmpty() && order.get(0).getKey() == KsmKnob.RUN
                && Long.parseLong(order.get(0).getValue()) == KsmKnob.RUN_UNMERGE;
        String advisorMode = settings.contains(KsmKnob.ADVISOR_MODE) ? settings.get(KsmKnob.ADVISOR_MODE)
                : values.get(KsmKnob.ADVISOR_MODE);
        for (Map.Entry<KsmKnob, String> e : order) {
            KsmKnob knob = e.getKey();
            boolean changes = !e.getValue().equals(values.get(knob));
            if ((knob == KsmKnob.MERGE_ACROSS_NODES || knob == KsmKnob.MAX_PAGE_SHARING) && changes
                    && !unmergesFirst && pagesShared.getAsLong() > 0) {
                throw new IllegalStateException(knob.fileName() + " cannot change while pages_shared is "
                        + pagesShared.getAsLong() + " (the kernel answers EBUSY): write run=2 first to unmerge");
            }
            if (knob == KsmKnob.PAGES_TO_SCAN && "scan-time".equals(advisorMode)) {
                throw new IllegalStateException("pages_to_scan cannot be written while advisor_mode is scan-time"
                        + " (the kernel answers EINVAL)");
            }
        }
        List<KsmChange> changes = new ArrayList<>();
        for (Map.Entry<KsmKnob, String> e : order) {
            String before = values.put(e.getKey(), e.getValue());
            if (e.getKey() == KsmKnob.RUN && Long.parseLong(e.getValue()) == KsmKnob.RUN_UNMERGE) {
                unmergeAll.run();
            }
            changes.add(new KsmChange(e.getKey(), before, e.getValue()));
        }
        return changes;
    }
}
