package org.memhygiene.ui.frontier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.ui.model.FrontierPoint;

class PolicyFrontierTest {
    @Test
    void keepsOnlyCellsNoOtherBeatsOnBothAxesSortedByReclaimed() {
        FrontierPoint off = new FrontierPoint("off", 0, 100);
        FrontierPoint zero = new FrontierPoint("zero-pages", 30, 95);
        FrontierPoint dominated = new FrontierPoint("default / none", 20, 90); // zero-pages beats it on both
        FrontierPoint dense = new FrontierPoint("fast+zero", 55, 80);
        FrontierPoint tie = new FrontierPoint("fast+zero again", 55, 80); // equal: neither beats the other
        List<FrontierPoint> front = PolicyFrontier.paretoFront(List.of(dense, dominated, off, zero, tie));
        assertEquals(List.of(off, zero, dense, tie), front);
    }
}
