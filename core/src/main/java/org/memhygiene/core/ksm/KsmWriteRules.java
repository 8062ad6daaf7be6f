package org.memhygiene.core.ksm;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.memhygiene.core.host.HostRefusedException;

/**
 * The kernel's rules for when a knob may be written (mm/ksm.c, https://docs.kernel.org/admin-guide/mm/ksm.html):
 * merge_across_nodes and max_page_sharing change only while pages_shared is 0 (EBUSY otherwise), unless
 * the same settings unmerge first with run=2; pages_to_scan is refused (EINVAL) while advisor_mode is
 * scan-time, unless the same settings set advisor_mode=none. Checked before anything is written, by the
 * real host (KsmSysfs) and the simulated one alike, so both refuse the same changes with the same words.
 */
public final class KsmWriteRules {
    private KsmWriteRules() {}

    /**
     * @param settings    what is about to be written
     * @param current     each knob's value now (as the knob accepts it back), empty when unknown
     * @param pagesShared pages_shared now
     * @throws HostRefusedException naming the knob, why, and the command that does it
     */
    public static void check(KsmSettings settings, Function<KsmKnob, Optional<String>> current, long pagesShared) {
        boolean unmerging =
                settings.contains(KsmKnob.RUN) && Long.parseLong(settings.get(KsmKnob.RUN)) == KsmKnob.RUN_UNMERGE;
        for (KsmKnob knob : List.of(KsmKnob.MERGE_ACROSS_NODES, KsmKnob.MAX_PAGE_SHARING)) {
            if (settings.contains(knob)
                    && !settings.get(knob).equals(current.apply(knob).orElse(null))
                    && pagesShared > 0
                    && !unmerging) {
                throw new HostRefusedException(knob.fileName() + " can change only while no pages are shared"
                        + " (pages_shared=" + pagesShared + "); unmerge in the same step with `ksm set run=2 "
                        + knob.fileName() + "=" + settings.get(knob)
                        + "`, then start merging again with `ksm set run=1`");
            }
        }
        if (settings.contains(KsmKnob.PAGES_TO_SCAN)
                && "scan-time".equals(current.apply(KsmKnob.ADVISOR_MODE).orElse("none"))
                && !"none".equals(settings.get(KsmKnob.ADVISOR_MODE))) {
            throw new HostRefusedException("pages_to_scan is set by the KSM advisor while advisor_mode=scan-time;"
                    + " add advisor_mode=none to set it by hand");
        }
    }
}
