package org.memhygiene.core.agent;

import java.util.Locale;

/** The state of a VM's agent link, as its row in {@code memhygiene vms} shows it. */
public enum AgentStatus {
    /** hello, stats and posture answered within the read timeout. */
    OK,
    /** The domain has the channel but is not running, so nothing listens on it. */
    VM_NOT_RUNNING,
    /** The domain has no org.memhygiene.agent.0 channel (or its socket path is not known yet). */
    NO_CHANNEL,
    /** The channel's socket could not be connected (VM not running, QEMU gone). */
    UNREACHABLE,
    /** Connected, but no complete reply within the read timeout: no agent in the guest, or a silent one. */
    TIMEOUT,
    /** The guest sent something that is not a valid reply: garbage, an oversized line, a flood, a bad schema. */
    MISBEHAVING,
    /** The agent answered with an error, or speaks another protocol version. */
    AGENT_ERROR,
    /** Not connected again yet: waiting out the backoff after a failure. */
    BACKING_OFF;

    /** As a person reads it, in the CLI, the dashboard and the findings' evidence: "no channel". */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
}
