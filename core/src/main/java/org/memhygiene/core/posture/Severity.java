package org.memhygiene.core.posture;

/** How much a finding matters to the confidentiality of guest memory, lowest first. */
public enum Severity {
    INFO,
    LOW,
    MEDIUM,
    HIGH,
    CRITICAL
}
