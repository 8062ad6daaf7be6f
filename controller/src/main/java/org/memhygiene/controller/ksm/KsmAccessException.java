package org.memhygiene.controller.ksm;

/**
 * KSM could not be read or changed on this host (no KSM in the kernel, not root, read-only sysfs,
 * the kernel refused a value). The message says which file, what happened and what to do.
 */
public final class KsmAccessException extends RuntimeException {
    public KsmAccessException(String message) {
        super(message);
    }

    public KsmAccessException(String message, Throwable cause) {
        super(message, cause);
    }
}
