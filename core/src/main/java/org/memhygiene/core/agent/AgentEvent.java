package org.memhygiene.core.agent;

import java.time.Instant;

/**
 * Something a VM's agent link saw that an admin reviewing the VM's posture should know: a failure, a
 * guest that misbehaved, a reconnect. Kept per link, newest last, a bounded number.
 */
public record AgentEvent(Instant at, AgentStatus status, String detail) {}
