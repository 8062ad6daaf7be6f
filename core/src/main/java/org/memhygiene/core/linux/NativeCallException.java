package org.memhygiene.core.linux;

/** A failed libc call, naming the call, the errno and the arguments it was given. */
public final class NativeCallException extends RuntimeException {
    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno, String arguments) {
        super(call + "(" + arguments + ") failed: " + Errno.name(errno));
        this.call = call;
        this.errno = errno;
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }
}
