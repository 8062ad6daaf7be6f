package org.memhygiene.core.posture;

/**
 * One observation about how a guest or host protects memory.
 *
 * @param id          stable identifier, e.g. "guest.init_on_free.off"; documented in docs/POSTURE.md
 * @param severity    how much it matters
 * @param title       one line for people
 * @param evidence    the file and value seen, e.g. "/proc/cmdline: no init_on_free=1"
 * @param remediation what to change, concretely
 */
public record Finding(String id, Severity severity, String title, String evidence, String remediation) {}
