package org.memhygiene.controller.libvirt;

import java.util.Optional;
import org.libvirt.Error;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;

/**
 * A libvirt call failed. The message names the connection URI, the operation and libvirt's own
 * message, e.g. {@code libvirt on test:///nonexistent.xml: open connection failed: ...}; {@link #code()}
 * is libvirt's virErrorNumber (https://libvirt.org/html/libvirt-virterror.html#virErrorNumber) when
 * libvirt reported one.
 */
public final class LibvirtAccessException extends RuntimeException {
    private final String uri;
    private final String operation;
    private final String libvirtMessage;
    private final transient Optional<ErrorNumber> code;

    public LibvirtAccessException(
            String uri, String operation, String libvirtMessage, Optional<ErrorNumber> code, Throwable cause) {
        super("libvirt on " + uri + ": " + operation + " failed: " + libvirtMessage, cause);
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
