package org.memhygiene.core.host;

/**
 * The host, or the part of it the call needs, did not answer as it must: libvirt's connection is down, a
 * VM's agent did not answer in time, closed the channel or broke the protocol. Trying again later may
 * work. HTTP 502.
 */
public final class HostUnreachableException extends HostBackendException {
    public HostUnreachableException(String message) {
        super(message, null);
    }

    public HostUnreachableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.UNREACHABLE;
    }
}
