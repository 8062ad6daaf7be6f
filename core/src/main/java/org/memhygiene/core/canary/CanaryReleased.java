package org.memhygiene.core.canary;

/**
 * The reply to canary-release (docs/PROTOCOL.md).
 *
 * @param nonce         the probe's nonce, lowercase hex
 * @param releasedBytes bytes zeroed, unlocked and unmapped: every canary and control page
 */
public record CanaryReleased(String nonce, long releasedBytes) {}
