package org.memhygiene.ui.api;

/** The controller answered a call with an error: its HTTP status and the message of its error document. */
public final class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The HTTP status; 0 when the controller could not be reached at all. */
    public int status() {
        return status;
    }
}
