package org.memhygiene.controller.libvirt;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

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
        check(LibvirtNative.INSTANCE.virNodeGetMemoryParameters(conn, Pointer.NULL, count, 0), "read node memory parameters");
        if (count.getValue() == 0) {
            return NodeMemoryParameters.of(Map.of());
        }
        Memory params = new Memory((long) count.getValue() * LibvirtNative.TYPED_PARAM_SIZE_BYTES);
        params.clear();
        check(LibvirtNative.INSTANCE.virNodeGetMemoryParameters(conn, params, count, 0), "read node memory parameters");
        try {
            Map<String, Long> byName = new LinkedHashMap<>();
            for (int i = 0; i < count.getValue(); i++) {
                long offset = (long) i * LibvirtNative.TYPED_PARAM_SIZE_BYTES;
                String name = params.getString(offset, StandardCharsets.US_ASCII.name());
                integerValue(params, offset).ifPresent(v -> byName.put(name, v));
            }
            return NodeMemoryParameters.of(byName);
        } finally {
            LibvirtNative.INSTANCE.virTypedParamsClear(params, count.getValue());
        }
    }

    /** Sets the given parameters, all in one call: libvirt applies them in order and stops at the first failure. */
    public void set(NodeMemorySettings settings) {
        Map<String, Long> byName = settings.byName();
        Memory params = new Memory((long) byName.size() * LibvirtNative.TYPED_PARAM_SIZE_BYTES);
        params.clear();
        int i = 0;
        for (Map.Entry<String, Long> entry : byName.entrySet()) {
            long offset = (long) i++ * LibvirtNative.TYPED_PARAM_SIZE_BYTES;
            byte[] name = entry.getKey().getBytes(StandardCharsets.US_ASCII);
            params.write(offset, name, 0, Math.min(name.length, LibvirtNative.TYPED_PARAM_FIELD_BYTES - 1));
            params.setInt(offset + LibvirtNative.TYPED_PARAM_TYPE_OFFSET, LibvirtNative.VIR_TYPED_PARAM_UINT);
            params.setInt(offset + LibvirtNative.TYPED_PARAM_VALUE_OFFSET, (int) entry.getValue().longValue());
        }
        Pointer conn = host.connectPointer(host.connection());
        check(LibvirtNative.INSTANCE.virNodeSetMemoryParameters(conn, params, byName.size(), 0),
                "set node memory parameters " + byName);
    }

    private void check(int result, String operation) {
        if (result < 0) {
            LibvirtAccessException error = host.lastNativeError(operation);
            if (error.isNotSupported()) {
                throw new LibvirtAccessException(host.uri(), operation, "not supported by " + host.uri() + " ("
                        + error.libvirtMessage() + ")", error.code(), error);
            }
            throw error;
        }
    }

    /** The value as a long, for the integer types; empty for double, string and unknown types. */
    private static OptionalLong integerValue(Pointer params, long offset) {
        long value = offset + LibvirtNative.TYPED_PARAM_VALUE_OFFSET;
        return switch (params.getInt(offset + LibvirtNative.TYPED_PARAM_TYPE_OFFSET)) {
            case LibvirtNative.VIR_TYPED_PARAM_INT, LibvirtNative.VIR_TYPED_PARAM_BOOLEAN ->
                    OptionalLong.of(params.getInt(value));
            case LibvirtNative.VIR_TYPED_PARAM_UINT -> OptionalLong.of(Integer.toUnsignedLong(params.getInt(value)));
            case LibvirtNative.VIR_TYPED_PARAM_LLONG, LibvirtNative.VIR_TYPED_PARAM_ULLONG ->
                    OptionalLong.of(params.getLong(value));
            default -> OptionalLong.empty();
        };
    }
}
