package org.memhygiene.simulator.sweep;

import org.memhygiene.core.ksm.KsmSettings;

/** One KSM configuration of a sweep: a label for the table and the knobs laid over the scenario's. */
public record SweepPolicy(String label, KsmSettings settings) {}
