package org.memhygiene.controller.libvirt;

import java.util.Optional;
import org.libvirt.Error;
import org.libvirt.Error.ErrorDomain;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.memhygiene.core.linux.Errno;

/**
 * A libvirt call failed. The message names the connection URI, the operation and libvirt's own
 * message, e.g. {@code libvirt on test:///nonexistent.xml: open connection failed: ...}; {@link #code()}
 * is libvirt's virErrorNumber (https://libvirt.org/html/libvirt-virterror.html#virErrorNumber) when
 * libvirt reported one.
 */
public final class LibvirtAccessException extends RuntimeException {
    /** libvirt's daemons: monolithic libvirtd, or the modular virtqemud (https://libvirt.org/daemons.html). */
    private static final String NO_DAEMON_ADVICE = "; no libvirt daemon is running here: start libvirtd"
            + " (systemctl start libvirtd; virtqemud where libvirt runs its modular daemons)";

    private final String uri;
    private final String operation;
    private final String libvirtMessage;
    private final transient Optional<ErrorNumber> code;

    public LibvirtAccessException(
            String uri, String operation, String libvirtMessage, Optional<ErrorNumber> code, Throwable cause) {
        this(uri, operation, libvirtMessage, "", code, cause);
    }

    /** {@code advice}, after libvirt's message, says what the admin can do about it. */
    private LibvirtAccessException(
            String uri,
            String operation,
            String libvirtMessage,
            String advice,
            Optional<ErrorNumber> code,
            Throwable cause) {
        super("libvirt on " + uri + ": " + operation + " failed: " + libvirtMessage + advice, cause);
        this.uri = uri;
        this.operation = operation;
        this.libvirtMessage = libvirtMessage;
        this.code = code;
    }

    /** Wraps an exception thrown by libvirt-java. */
    public static LibvirtAccessException of(String uri, String operation, LibvirtException e) {
        Optional<ErrorNumber> code = Optional.ofNullable(e.getError()).map(Error::getCode);
        String message = e.getError() == null || e.getError().getMessage() == null
                ? String.valueOf(e.getMessage())
                : e.getError().getMessage();
        return new LibvirtAccessException(uri, operation, message, code, e);
    }

    /**
     * {@link #of}, for opening a connection to {@code uri}: when libvirt found no daemon on this machine's
     * socket, the message adds how to start one. libvirt's client reports that as a system error of its RPC
     * layer whose first integer is connect(2)'s errno (virReportSystemError,
     * https://libvirt.org/html/libvirt-virterror.html#virError): ENOENT, no socket file; ECONNREFUSED, a
     * socket file that no process listens on (the daemon died).
     */
    static LibvirtAccessException opening(String uri, String operation, LibvirtException e) {
        LibvirtAccessException plain = of(uri, operation, e);
        Error error = e.getError();
        boolean noDaemon = error != null
                && error.getCode() == ErrorNumber.VIR_ERR_SYSTEM_ERROR
                && error.getDomain() == ErrorDomain.VIR_FROM_RPC
                && (error.getInt1() == Errno.ENOENT || error.getInt1() == Errno.ECONNREFUSED)
                && LibvirtHost.isLocal(uri);
        return noDaemon
                ? new LibvirtAccessException(uri, operation, plain.libvirtMessage, NO_DAEMON_ADVICE, plain.code, e)
                : plain;
    }

    public String uri() {
        return uri;
    }

    public String operation() {
        return operation;
    }

    /** libvirt's own message, without the URI and operation. */
    public String libvirtMessage() {
        return libvirtMessage;
    }

    public Optional<ErrorNumber> code() {
        return code;
    }

    /** The domain is gone (VIR_ERR_NO_DOMAIN): destroyed or undefined while we looked at it. */
    public boolean isNoDomain() {
        return code.filter(c -> c == ErrorNumber.VIR_ERR_NO_DOMAIN).isPresent();
    }

    /** The driver behind the URI does not implement the call (VIR_ERR_NO_SUPPORT). */
    public boolean isNotSupported() {
        return code.filter(c -> c == ErrorNumber.VIR_ERR_NO_SUPPORT).isPresent();
    }
}
