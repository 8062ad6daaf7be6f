package org.memhygiene.agent.canary;

import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;

/** A canary request the agent will not carry out, with the protocol error code that says why. */
public final class CanaryException extends RuntimeException {
    private final ErrorCode code;

    public CanaryException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
