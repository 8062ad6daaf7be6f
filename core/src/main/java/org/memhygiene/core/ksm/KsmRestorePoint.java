package org.memhygiene.core.ksm;

import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The values some knobs had before a command changed them, to put back when it ends (normally, on an
 * error, or on SIGINT/SIGTERM through a shutdown hook). Restoring happens at most once.
 */
public final class KsmRestorePoint {
    private final KsmSysfs sysfs;
    private final Map<KsmKnob, String> previous;
    private final boolean unmergeFirst;
    private final AtomicBoolean restored = new AtomicBoolean();

    private KsmRestorePoint(KsmSysfs sysfs, Map<KsmKnob, String> previous, boolean unmergeFirst) {
        this.sysfs = sysfs;
        this.previous = previous;
        this.unmergeFirst = unmergeFirst;
    }

    /** Remembers the current values of the knobs {@code settings} would change. */
    public static KsmRestorePoint before(KsmSysfs sysfs, KsmSettings settings) {
        return of(sysfs, settings.inWriteOrder().stream().map(Map.Entry::getKey).toList(), false);
    }

    /**
     * Remembers the current values of {@code knobs}. With {@code unmergeFirst}, restoring writes run=2 before
     * the values: what a run merged is unmerged (its rmap items freed), and merge_across_nodes and
     * max_page_sharing, which change only while nothing is shared, can go back too. For a harness that owns
     * KSM for its run (the fidelity harness), not for a command on a host whose guests merge.
     */
    public static KsmRestorePoint of(KsmSysfs sysfs, Collection<KsmKnob> knobs, boolean unmergeFirst) {
        return new KsmRestorePoint(sysfs, new EnumMap<>(sysfs.currentValues(knobs)), unmergeFirst);
    }

    public Map<KsmKnob, String> previousValues() {
        return Map.copyOf(previous);
    }

    /** Puts the remembered values back; a second call does nothing. */
    public List<KsmChange> restore() {
        if (previous.isEmpty() || !restored.compareAndSet(false, true)) {
            return List.of();
        }
        if (unmergeFirst) {
            sysfs.apply(KsmSettings.of(Map.of(KsmKnob.RUN, Long.toString(KsmKnob.RUN_UNMERGE))));
        }
        return sysfs.apply(KsmSettings.of(previous));
    }

    /** Restores also when the JVM is stopped by a signal; returns the hook so it can be removed. */
    public Thread restoreOnShutdown() {
        Thread hook = new Thread(
                () -> {
                    try {
                        restore();
                    } catch (RuntimeException e) {
                        System.err.println("memhygiene: could not restore KSM settings: " + e.getMessage());
                    }
                },
                "ksm-restore-on-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }
}
