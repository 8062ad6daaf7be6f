package org.memhygiene.core.units;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void parsesSizesWithBinarySuffixes() {
        assertEquals(4096, ByteSize.parse("4096"));
        assertEquals(512L << 10, ByteSize.parse("512K"));
        assertEquals(256L << 20, ByteSize.parse("256m"));
        assertEquals(2L << 30, ByteSize.parse("2GiB"));
        assertEquals(1L << 40, ByteSize.parse("1T"));
    }

    @Test
    void rejectsWhatIsNotASize() {
        for (String bad : new String[] {"", "-1G", "1.5G", "G", "12Q", "9999999999999999G"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }
}
