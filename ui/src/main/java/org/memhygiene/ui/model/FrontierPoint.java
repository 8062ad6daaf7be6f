package org.memhygiene.ui.model;

/**
 * One point of the trade-off view's frontier, on the same axes as the VMs' points: one VM of one of the
 * simulator sweep's frontier cells, what it reclaimed (percent of that VM's memory) and the posture score it
 * ended with (0-100).
 *
 * @param cell the sweep cell, "policy × hygiene mode" as {@code sim sweep} labels it
 * @param vm   the VM of that cell
 */
public record FrontierPoint(String cell, String vm, double reclaimedPercent, double score) {
    /** What the point's tooltip says. */
    public String label() {
        return cell + ": " + vm;
    }
}
