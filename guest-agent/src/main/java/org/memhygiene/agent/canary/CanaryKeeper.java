package org.memhygiene.agent.canary;

import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.memhygiene.agent.scrub.SafetyLimits;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.canary.CanaryDerivation;
import org.memhygiene.core.canary.CanaryPlanted;
import org.memhygiene.core.canary.CanaryReleased;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;

/**
 * The agent's one canary at a time (docs/PROTOCOL.md "canary-plant"): it belongs to the session that
 * planted it, and is released by canary-release, when its lease runs out, or when that session ends,
 * whichever comes first. A session is any object the server keeps per peer, compared by identity.
 */
public final class CanaryKeeper {
    private final SafetyLimits limits;
    private final Supplier<ScrubConfig> config;
    private final ScheduledExecutorService leases;
    private Held held;
    /** How the last canary ended, for a host that asks after it: "released when its lease of 1000 ms ran out". */
    private String lastNonce;

    private String lastEnd;

    private record Held(Canary canary, Object owner, long leaseMillis, ScheduledFuture<?> expiry) {}

    /**
     * @param limits the safety limits the scrubber keeps, checked before a plant
     * @param config the headroom and pressure threshold in force (set-policy may change them)
     * @param leases runs lease expiries
     */
    public CanaryKeeper(SafetyLimits limits, Supplier<ScrubConfig> config, ScheduledExecutorService leases) {
        this.limits = limits;
        this.config = config;
        this.leases = leases;
    }

    public synchronized CanaryPlanted plant(byte[] nonce, int pages, long leaseMillis, Object owner) {
        if (held != null) {
            throw new CanaryException(
                    ErrorCode.CANARY_BUSY,
                    "a canary (nonce " + hex(held.canary()) + ", "
                            + held.canary().pages() + " pages) is planted already"
                            + (held.owner() == owner ? "" : " by another session")
                            + "; one probe at a time: release it, or wait for its lease of " + held.leaseMillis()
                            + " ms to run out");
        }
        Canary canary = Canary.plant(nonce, pages, limits, config.get());
        try {
            held = new Held(
                    canary,
                    owner,
                    leaseMillis,
                    leases.schedule(() -> expire(canary), leaseMillis, TimeUnit.MILLISECONDS));
        } catch (RuntimeException e) { // the lease thread is gone (the agent is stopping): hold nothing
            canary.close();
            throw e;
        }
        return new CanaryPlanted(
                CanaryBounds.hex(nonce),
                pages,
                pages,
                canary.pageBytes(),
                CanaryDerivation.NAME,
                leaseMillis,
                canary.lockedBytes());
    }

    public synchronized CanaryTimings time(byte[] nonce, Object owner) {
        Canary canary = ownedCanary(nonce, owner);
        if (canary.timed()) {
            throw new CanaryException(
                    ErrorCode.NO_CANARY,
                    "the canary with nonce " + CanaryBounds.hex(nonce)
                            + " was timed already and no longer holds its contents; release it and plant another");
        }
        return canary.time();
    }

    public synchronized CanaryReleased release(byte[] nonce, Object owner) {
        Canary canary = ownedCanary(nonce, owner);
        end("released by canary-release");
        return new CanaryReleased(CanaryBounds.hex(nonce), canary.lockedBytes());
    }

    /** The session {@code owner} ended: its canary, if any, goes. */
    public synchronized void sessionEnded(Object owner) {
        if (held != null && held.owner() == owner) {
            end("released when the session that planted it ended");
        }
    }

    private synchronized void expire(Canary canary) {
        if (held != null && held.canary() == canary) {
            end("released when its lease of " + held.leaseMillis() + " ms ran out");
        }
    }

    private Canary ownedCanary(byte[] nonce, Object owner) {
        if (held == null || !Arrays.equals(held.canary().nonce(), nonce)) {
            String hex = CanaryBounds.hex(nonce);
            throw new CanaryException(
                    ErrorCode.NO_CANARY,
                    "no canary with nonce " + hex + " is planted"
                            + (hex.equals(lastNonce)
                                    ? ": it was " + lastEnd
                                    : held != null ? " (the one planted has another nonce)" : ""));
        }
        if (held.owner() != owner) {
            throw new CanaryException(
                    ErrorCode.CANARY_BUSY,
                    "the canary with nonce " + hex(held.canary()) + " belongs to another session");
        }
        return held.canary();
    }

    private void end(String how) {
        Held ending = held;
        held = null;
        ending.expiry().cancel(false);
        lastNonce = hex(ending.canary());
        lastEnd = how;
        ending.canary().close();
    }

    private static String hex(Canary canary) {
        return CanaryBounds.hex(canary.nonce());
    }
}
