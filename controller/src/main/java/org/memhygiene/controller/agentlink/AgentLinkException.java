package org.memhygiene.controller.agentlink;

import org.memhygiene.core.agent.AgentStatus;

/** Why a request to a guest agent failed; {@link #status()} is what the VM's row shows. */
public final class AgentLinkException extends Exception {
    private final AgentStatus status;

    AgentLinkException(AgentStatus status, String message) {
        super(message);
        this.status = status;
    }

    AgentLinkException(AgentStatus status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public AgentStatus status() {
        return status;
    }
}
