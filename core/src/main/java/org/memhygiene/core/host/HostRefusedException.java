package org.memhygiene.core.host;

/**
 * The host refused a change: the kernel answered a write with an error, a rule of the kernel's forbids it
 * now (merge_across_nodes while pages are shared), or this process may not write there (not root,
 * read-only sysfs). Nothing was changed, or what was changed has been put back (the message says which).
 * HTTP 409.
 */
public final class HostRefusedException extends HostBackendException {
    public HostRefusedException(String message) {
        super(message, null);
    }

    public HostRefusedException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.REFUSED;
    }
}
