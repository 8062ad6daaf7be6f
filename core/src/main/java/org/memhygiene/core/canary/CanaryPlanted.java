package org.memhygiene.core.canary;

/**
 * The reply to canary-plant (docs/PROTOCOL.md): what the agent holds, locked in RAM, until canary-release,
 * the end of the lease or the end of the session that planted it.
 *
 * @param nonce         the probe's nonce, lowercase hex
 * @param canaryPages   pages whose contents {@link CanaryDerivation} gives for the nonce
 * @param controlPages  pages of random contents unique to this guest, as many
 * @param pageSizeBytes the guest's page size; each canary or control page is one such page
 * @param derivation    {@link CanaryDerivation#NAME}
 * @param leaseMillis   after this long the agent releases everything on its own
 * @param lockedBytes   (canaryPages + controlPages) × pageSizeBytes, locked with mlock
 */
public record CanaryPlanted(
        String nonce,
        int canaryPages,
        int controlPages,
        long pageSizeBytes,
        String derivation,
        long leaseMillis,
        long lockedBytes) {}
