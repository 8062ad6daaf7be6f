package org.memhygiene.core.host;

/**
 * What the call needs does not exist on this host: no KSM in its kernel, KSM of another machine (a remote
 * libvirt URI), a knob this kernel lacks, a VM without an agent channel or one that is not running. HTTP 409.
 */
public final class HostNotAvailableException extends HostBackendException {
    public HostNotAvailableException(String message) {
        super(message, null);
    }

    public HostNotAvailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.NOT_AVAILABLE;
    }
}
