package org.memhygiene.core.units;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CountTest {
    @Test
    void oneIsSingularAndEveryOtherCountPlural() {
        assertEquals("1 domain", Count.of(1, "domain"));
        assertEquals("0 VMs", Count.of(0, "VM"));
        assertEquals("2 full scans", Count.of(2, "full scan"));
    }
}
