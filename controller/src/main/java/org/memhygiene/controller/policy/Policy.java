package org.memhygiene.controller.policy;

import java.util.Optional;
import org.memhygiene.core.host.HostSnapshot;

/**
 * Decides what to do about KSM and guest scrubs from two host samples. Implementations do no I/O and
 * read no clock (time comes from the samples), so the same sequence of samples (and of the scrub reports
 * handed to {@link #scrubbed}) always yields the same decisions; they may keep state between calls (one
 * instance per policy loop, not thread-safe).
 */
public interface Policy {
    /**
     * @param previous the sample before {@code current}, empty on the first call; rates (merge yield,
     *                 ksmd CPU) need it
     * @param current  the newest sample
     */
    Decision decide(Optional<HostSnapshot> previous, HostSnapshot current);

    PolicyMode mode();

    /**
     * Called on every sample, also between two {@link #decide} intervals, for work that must follow ksmd
     * closely (the adaptive policy's reclaim boost after scrubs); empty when there is nothing to decide.
     */
    default Optional<Decision> onSample(HostSnapshot current) {
        return Optional.empty();
    }

    /** A scrub the daemon knows of directly (the policy's own, or one asked through the API) has ended. */
    default void scrubbed(KnownScrub scrub) {}

    /** Whether the policy holds knobs it changed only for a while (a reclaim boost runs), for {@link #release}. */
    default boolean holdsKnobs() {
        return false;
    }

    /**
     * Gives back what the policy changed only for a while (the reclaim boost's knobs), because it stops
     * deciding: its mode is switched, or the daemon stops. Empty when it holds nothing.
     *
     * @param latest the newest sample, to tell which knobs still hold what the policy wrote
     * @param why    for the decision's reason
     */
    default Optional<Decision> release(HostSnapshot latest, String why) {
        return Optional.empty();
    }
}
