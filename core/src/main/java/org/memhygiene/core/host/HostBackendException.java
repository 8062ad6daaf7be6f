package org.memhygiene.core.host;

/**
 * Why a {@link HostBackend} call did not do what was asked: part of the backend's contract, the same on
 * every backend, so the API answers each kind with one HTTP status (docs/API.md, "Errors") and the CLI
 * with one exit code. The message says what, where, and what to do.
 */
public abstract sealed class HostBackendException extends RuntimeException
        permits HostRefusedException, HostNotAvailableException, NoSuchVmException, HostUnreachableException {

    /** The kinds, for a switch that must handle each (Java 17 has no pattern switch over sealed types). */
    public enum Kind {
        /** {@link HostRefusedException} */
        REFUSED,
        /** {@link HostNotAvailableException} */
        NOT_AVAILABLE,
        /** {@link NoSuchVmException} */
        NO_SUCH_VM,
        /** {@link HostUnreachableException} */
        UNREACHABLE
    }

    protected HostBackendException(String message, Throwable cause) {
        super(message, cause);
    }

    public abstract Kind kind();
}
