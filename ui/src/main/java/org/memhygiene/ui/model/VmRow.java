package org.memhygiene.ui.model;

import org.memhygiene.ui.api.VmView;

/** One VM as the dashboard shows it: the controller's figures and what it reclaims, by source. */
public record VmRow(VmView vm, Reclaimed reclaimed) {
    /** Reclaimed memory as a percentage of the VM's memory (the trade-off view's x axis). */
    public double reclaimedPercent() {
        return vm.memoryBytes() > 0 ? 100.0 * reclaimed.totalBytes() / vm.memoryBytes() : 0;
    }
}
