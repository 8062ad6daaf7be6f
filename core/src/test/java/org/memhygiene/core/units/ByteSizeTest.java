package org.memhygiene.core.units;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ByteSizeTest {
    @Test
    void formatsInBinaryUnits() {
        assertEquals("0 B", ByteSize.format(0));
        assertEquals("1023 B", ByteSize.format(1023));
        assertEquals("4.0 KiB", ByteSize.format(4096));
        assertEquals("1.5 MiB", ByteSize.format(3 * 512 * 1024));
        assertEquals("2.0 GiB", ByteSize.format(2L << 30));
        assertEquals("-8.0 KiB", ByteSize.format(-8192));
    }
}
