package org.memhygiene.ui.model;

/**
 * One policy of the simulator's sweep: what it reclaims (percent of guest memory) and the posture score
 * it leaves (mean over the VMs, 0-100).
 */
public record FrontierPoint(String label, double reclaimedPercent, double score) {}
