package org.memhygiene.core.agent;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.memhygiene.core.posture.Finding;

/**
 * What one VM's agent said in one sample. On a failure {@code status} says what kind and {@code problem}
 * the details; hello, stats and posture are then the last ones received, if any, so a row can still
 * show what the guest reported before.
 *
 * @param sampledAt when the sample ended
 * @param status    the link's state after the sample
 * @param problem   empty when OK
 * @param hello     the handshake of the current (or last) connection
 * @param stats     the latest stats received
 * @param posture   the latest posture findings received
 * @param events    recent events of this link, oldest first
 */
public record AgentSample(
        Instant sampledAt,
        AgentStatus status,
        String problem,
        Optional<AgentHello> hello,
        Optional<AgentStats> stats,
        List<Finding> posture,
        List<AgentEvent> events) {

    /** A sample without anything from an agent: no channel, VM not running, a failed sample. */
    public static AgentSample without(AgentStatus status, String problem, Instant at) {
        return new AgentSample(at, status, problem, Optional.empty(), Optional.empty(), List.of(), List.of());
    }
}
