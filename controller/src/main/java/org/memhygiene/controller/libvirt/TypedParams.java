package org.memhygiene.controller.libvirt;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Arrays of virTypedParameter (https://libvirt.org/html/libvirt-libvirt-common.html#virTypedParameter)
 * in native memory, laid out by hand: {@code char field[80]; int type;} then an 8-byte, 8-aligned
 * union, 96 bytes per entry on every 64- and 32-bit Linux ABI libvirt builds for.
 */
final class TypedParams {
    static final int SIZE_BYTES = 96;
    private static final int FIELD_BYTES = 80;
    private static final int TYPE_OFFSET = 80;
    private static final int VALUE_OFFSET = 88;

    /** virTypedParameterType, https://libvirt.org/html/libvirt-libvirt-common.html#virTypedParameterType */
    private static final int INT = 1;

    private static final int UINT = 2;
    private static final int LLONG = 3;
    private static final int ULLONG = 4;
    private static final int BOOLEAN = 6;

    private TypedParams() {}

    /** Zeroed room for {@code count} parameters, for libvirt to fill. */
    static Memory allocate(int count) {
        Memory params = new Memory((long) Math.max(count, 1) * SIZE_BYTES);
        params.clear();
        return params;
    }

    /** The integer-typed parameters by name; double and string ones are skipped (none of ours has them). */
    static Map<String, Long> integers(Pointer params, int count) {
        Map<String, Long> byName = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            long offset = (long) i * SIZE_BYTES;
            String name = params.getString(offset, StandardCharsets.US_ASCII.name());
            long value = offset + VALUE_OFFSET;
            switch (params.getInt(offset + TYPE_OFFSET)) {
                case INT, BOOLEAN -> byName.put(name, (long) params.getInt(value));
                case UINT -> byName.put(name, Integer.toUnsignedLong(params.getInt(value)));
                case LLONG, ULLONG -> byName.put(name, params.getLong(value));
                default -> {
                    // VIR_TYPED_PARAM_DOUBLE or _STRING: not a KSM figure.
                }
            }
        }
        return byName;
    }

    /** Unsigned int parameters, in the map's order; values must already be checked to fit. */
    static Memory unsignedInts(Map<String, Long> byName) {
        Memory params = allocate(byName.size());
        int i = 0;
        for (Map.Entry<String, Long> entry : byName.entrySet()) {
            long offset = (long) i++ * SIZE_BYTES;
            byte[] name = entry.getKey().getBytes(StandardCharsets.US_ASCII);
            params.write(offset, name, 0, Math.min(name.length, FIELD_BYTES - 1));
            params.setInt(offset + TYPE_OFFSET, UINT);
            params.setInt(offset + VALUE_OFFSET, (int) entry.getValue().longValue());
        }
        return params;
    }
}
