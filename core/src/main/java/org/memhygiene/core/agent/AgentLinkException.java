package org.memhygiene.core.agent;

/** Why a request to a guest agent failed; {@link #status()} is what the VM's row shows. */
public final class AgentLinkException extends Exception {
    private final AgentStatus status;

    public AgentLinkException(AgentStatus status, String message) {
        super(message);
        this.status = status;
    }

    public AgentLinkException(AgentStatus status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public AgentStatus status() {
        return status;
    }
}
