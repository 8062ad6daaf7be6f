package org.memhygiene.controller.policy;

import java.util.Optional;
import org.memhygiene.core.host.HostSnapshot;

/**
 * Decides what to do about KSM and guest scrubs from two host samples. Implementations do no I/O and
 * read no clock (time comes from the samples), so the same sequence of samples always yields the same
 * decisions; they may keep state between calls (one instance per policy loop, not thread-safe).
 */
public interface Policy {
    /**
     * @param previous the sample before {@code current}, empty on the first call; rates (merge yield,
     *                 ksmd CPU) need it
     * @param current  the newest sample
     */
    Decision decide(Optional<HostSnapshot> previous, HostSnapshot current);

    PolicyMode mode();
}
