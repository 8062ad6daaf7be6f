package org.memhygiene.controller.libvirt;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.util.Map;

/**
 * Reads and sets the node memory parameters (KSM) through libvirt, with our own binding of
 * virNodeGetMemoryParameters / virNodeSetMemoryParameters (libvirt-java 0.5.4 has neither). On a
 * remote URI this is the way to tune the remote host's KSM. A driver without them (the test driver,
 * libvirt's non-Linux builds) gives a {@link LibvirtAccessException} saying they are not supported by
 * the URI.
 */
public final class NodeMemoryTuning {
    private final LibvirtHost host;

    public NodeMemoryTuning(LibvirtHost host) {
        this.host = host;
    }

    public NodeMemoryParameters read() {
        Pointer conn = host.connectPointer(host.connection());
        IntByReference count = new IntByReference(0);
        // First call with no array: libvirt answers how many parameters it has.
        check(
                LibvirtNative.INSTANCE.virNodeGetMemoryParameters(conn, Pointer.NULL, count, 0),
                "read node memory parameters");
        if (count.getValue() == 0) {
            return NodeMemoryParameters.of(Map.of());
        }
        Memory params = TypedParams.allocate(count.getValue());
        check(LibvirtNative.INSTANCE.virNodeGetMemoryParameters(conn, params, count, 0), "read node memory parameters");
        try {
            return NodeMemoryParameters.of(TypedParams.integers(params, count.getValue()));
        } finally {
            LibvirtNative.INSTANCE.virTypedParamsClear(params, count.getValue());
        }
    }

    /** Sets the given parameters, all in one call: libvirt applies them in order and stops at the first failure. */
    public void set(NodeMemorySettings settings) {
        Map<String, Long> byName = settings.byName();
        Memory params = TypedParams.unsignedInts(byName);
        Pointer conn = host.connectPointer(host.connection());
        check(
                LibvirtNative.INSTANCE.virNodeSetMemoryParameters(conn, params, byName.size(), 0),
                "set node memory parameters " + byName);
    }

    private void check(int result, String operation) {
        if (result < 0) {
            LibvirtAccessException error = host.lastNativeError(operation);
            if (error.isNotSupported()) {
                throw new LibvirtAccessException(
                        host.uri(),
                        operation,
                        "not supported by " + host.uri() + " (" + error.libvirtMessage() + ")",
                        error.code(),
                        error);
            }
            throw error;
        }
    }
}
