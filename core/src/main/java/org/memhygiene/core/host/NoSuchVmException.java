package org.memhygiene.core.host;

import java.util.List;

/** No VM on the host has the name or UUID given. HTTP 404; on the command line a usage error (exit 2). */
public final class NoSuchVmException extends HostBackendException {
    private final String vm;
    private final String host;
    private final List<String> known;

    /**
     * @param vm    the name or UUID asked for
     * @param host  the host, as {@link HostBackend#describe()} or its URI
     * @param known the VMs the host has, by name
     */
    public NoSuchVmException(String vm, String host, List<String> known) {
        super(
                "no VM named '" + vm + "' on " + host + "; VMs: "
                        + (known.isEmpty() ? "none" : String.join(", ", known)),
                null);
        this.vm = vm;
        this.host = host;
        this.known = List.copyOf(known);
    }

    public String vm() {
        return vm;
    }

    public String host() {
        return host;
    }

    public List<String> known() {
        return known;
    }

    @Override
    public Kind kind() {
        return Kind.NO_SUCH_VM;
    }
}
