package org.memhygiene.simulator.scenario;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Something that happens to guests at a time (docs/SIMULATOR.md, "events").
 *
 * @param guests  guest names the event applies to
 * @param bytes   for allocate: how much
 * @param hold    for allocate: free it again after this long; empty: keep it
 * @param content for allocate: what the allocation is filled with
 * @param churn   for churn: the new write rates
 */
public record EventSpec(
        Duration at,
        List<String> guests,
        Action action,
        long bytes,
        Optional<Duration> hold,
        Fill content,
        Optional<GuestSpec.Churn> churn) {

    public enum Action {
        START,
        STOP,
        ALLOCATE,
        FREE,
        CHURN,
        SCRUB
    }

    public enum Fill {
        UNIQUE,
        ZERO,
        SECRET
    }
}
