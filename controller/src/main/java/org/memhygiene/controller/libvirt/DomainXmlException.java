package org.memhygiene.controller.libvirt;

/** A domain's XML could not be parsed; the message names the domain and what was wrong. */
public final class DomainXmlException extends RuntimeException {
    public DomainXmlException(String domain, String problem, Throwable cause) {
        super("domain " + domain + ": malformed domain XML: " + problem, cause);
    }
}
