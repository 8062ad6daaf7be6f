package org.memhygiene.ui.model;

import org.memhygiene.ui.api.GuestMemoryView;
import org.memhygiene.ui.api.VmView;

/** One VM as the dashboard shows it: the controller's figures and what it reclaims, by source. */
public record VmRow(VmView vm, Reclaimed reclaimed) {
    /** {@link #reclaimedMeasuredBy} of a VM whose guest RAM was not measured page by page. */
    public static final String KSM_ACCOUNTED = "KSM-accounted (ksm_stat)";

    /** What {@link #reclaimedMeasuredBy} adds where given back memory is the balloon's estimate. */
    public static final String BALLOON_ESTIMATE = ", balloon estimate";

    /** {@link #crossVmMergingFoundBy} of a VM that no recent deduplication probe measured. */
    public static final String CROSS_VM_ASSUMED = "assumed (configuration)";

    /** Reclaimed memory as a percentage of the VM's memory (the trade-off view's x axis). */
    public double reclaimedPercent() {
        return vm.memoryBytes() > 0 ? 100.0 * reclaimed.totalBytes() / vm.memoryBytes() : 0;
    }

    /**
     * How {@link #reclaimed} was measured, as SourceBreakdown takes it: the method of the pass over the VM's
     * guest RAM where it had page states (e.g. "pagemap_scan"), else KSM's accounting, with the balloon's
     * estimate of what free page reporting gave back where the VM reports free pages.
     */
    public String reclaimedMeasuredBy() {
        return SourceBreakdown.measuredPages(vm)
                .map(GuestMemoryView::method)
                .orElse(KSM_ACCOUNTED + (SourceBreakdown.givenBackFromBalloon(vm) ? BALLOON_ESTIMATE : ""));
    }

    /**
     * How its posture found whether its memory is merged with other VMs': measured by a deduplication probe (when,
     * in UTC), or, without a recent probe, assumed from its configuration (docs/POSTURE.md).
     */
    public String crossVmMergingFoundBy() {
        return vm.postureMeasuredAt().map(at -> "probe " + Timestamps.utc(at)).orElse(CROSS_VM_ASSUMED);
    }
}
