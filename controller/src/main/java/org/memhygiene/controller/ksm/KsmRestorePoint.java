package org.memhygiene.controller.ksm;

import org.memhygiene.core.ksm.KsmChange;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;

/**
 * The values some knobs had before a command changed them, to put back when it ends (normally, on an
 * error, or on SIGINT/SIGTERM through a shutdown hook). Restoring happens at most once.
 */
public final class KsmRestorePoint {
    private final KsmSysfs sysfs;
    private final Map<KsmKnob, String> previous;
    private final AtomicBoolean restored = new AtomicBoolean();

    private KsmRestorePoint(KsmSysfs sysfs, Map<KsmKnob, String> previous) {
        this.sysfs = sysfs;
        this.previous = previous;
    }

    /** Remembers the current values of the knobs {@code settings} would change. */
    public static KsmRestorePoint before(KsmSysfs sysfs, KsmSettings settings) {
        Map<KsmKnob, String> previous = new EnumMap<>(KsmKnob.class);
        settings.inWriteOrder().forEach(e -> previous.put(e.getKey(), null));
        return new KsmRestorePoint(sysfs, new EnumMap<>(sysfs.currentValues(previous.keySet())));
    }

    public Map<KsmKnob, String> previousValues() {
        return Map.copyOf(previous);
    }

    /** Puts the remembered values back; a second call does nothing. */
    public List<KsmChange> restore() {
        if (previous.isEmpty() || !restored.compareAndSet(false, true)) {
            return List.of();
        }
        return sysfs.apply(KsmSettings.of(previous));
    }

    /** Restores also when the JVM is stopped by a signal; returns the hook so it can be removed. */
    public Thread restoreOnShutdown() {
        Thread hook = new Thread(() -> {
            try {
                restore();
            } catch (RuntimeException e) {
                System.err.println("memhygiene: could not restore KSM settings: " + e.getMessage());
            }
        }, "ksm-restore-on-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }
}
