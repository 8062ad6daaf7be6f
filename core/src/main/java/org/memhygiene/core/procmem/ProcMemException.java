package org.memhygiene.core.procmem;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A /proc memory file that could not be read or did not hold what the kernel documents. The message
 * names the file and what went wrong; {@link #kind()} says what a caller can do about it.
 */
public final class ProcMemException extends RuntimeException {
    /** What went wrong, in the terms a caller decides on. */
    public enum Kind {
        /** The process exited (its /proc directory is gone, or the kernel answered ESRCH). */
        GONE,
        /** Permission denied: another user's process, no CAP_SYS_ADMIN, lockdown, a container. */
        DENIED,
        /** The file does not exist in this kernel (e.g. CONFIG_PROC_PAGE_MONITOR off). */
        ABSENT,
        /** The file's text did not have the documented shape, or it was larger than the bound. */
        MALFORMED,
        /** Any other I/O error. */
        IO
    }

    private final Kind kind;

    public ProcMemException(Kind kind, Path file, String message) {
        super(file + ": " + message);
        this.kind = kind;
    }

    private ProcMemException(Kind kind, Path file, String message, IOException cause) {
        super(file + ": " + message, cause);
        this.kind = kind;
    }

    /**
     * Classifies an I/O failure on {@code file}, a file under /proc/PID (or a PFN-indexed file under
     * /proc): a missing file whose directory is gone too means the process exited.
     */
    public static ProcMemException of(Path file, IOException cause) {
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (cause instanceof NoSuchFileException) {
            boolean processGone = file.getParent() != null && !Files.isDirectory(file.getParent());
            return processGone
                    ? new ProcMemException(Kind.GONE, file, "the process exited", cause)
                    : new ProcMemException(Kind.ABSENT, file, "absent in this kernel", cause);
        }
        if (cause instanceof AccessDeniedException
                || message.contains("Permission denied")
                || message.contains("Operation not permitted")) {
            return new ProcMemException(Kind.DENIED, file, "permission denied", cause);
        }
        if (message.contains("No such process")) {
            return new ProcMemException(Kind.GONE, file, "the process exited", cause);
        }
        return new ProcMemException(Kind.IO, file, message, cause);
    }

    public Kind kind() {
        return kind;
    }
}
