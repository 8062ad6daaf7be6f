package org.memhygiene.core.ksm;

/** One knob's value before and after settings were applied (to sysfs, or to a simulated host). */
public record KsmChange(KsmKnob knob, String before, String after) {}
