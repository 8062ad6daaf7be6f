package org.memhygiene.ui.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SeriesTableTest {
    @Test
    void growsPastItsFirstCapacityAndKeepsOrder() {
        SeriesTable table = new SeriesTable(1e9, "a", "b");
        for (int i = 0; i < 5000; i++) {
            table.add(i, i * 2, -i);
        }
        assertEquals(5000, table.size());
        assertEquals(4999, table.time(4999));
        assertEquals(9998, table.value(0, 4999));
        assertEquals(-4999, table.last(table.column("b")));
    }

    @Test
    void dropsRowsOlderThanTheRetention() {
        SeriesTable table = new SeriesTable(100, "v");
        for (int i = 0; i < 3000; i++) {
            table.add(i, i);
        }
        assertEquals(101, table.size()); // 2899..2999
        assertEquals(2899, table.time(0));
        assertEquals(2899, table.values(0)[0]);
    }

    @Test
    void ignoresARowOlderThanTheLast() {
        SeriesTable table = new SeriesTable(100, "v");
        table.add(10, 1);
        table.add(5, 2);
        assertEquals(1, table.size());
        assertEquals(1, table.last(0));
    }

    @Test
    void refusesARowOfTheWrongWidthAndAnUnknownColumn() {
        SeriesTable table = new SeriesTable(100, "v", "w");
        assertThrows(IllegalArgumentException.class, () -> table.add(1, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> table.column("x"));
        assertEquals("no column x in [v, w]", e.getMessage());
    }

    @Test
    void mergedHistoryFillsBeforeAndBetweenLiveRowsWithoutDuplicates() {
        SeriesTable table = new SeriesTable(1e9, "v");
        for (int t = 100; t <= 110; t++) {
            table.add(t, 1); // live, every second
        }
        for (int t = 150; t <= 155; t++) {
            table.add(t, 1); // live again after a lost connection
        }
        double[] times = new double[17];
        double[][] rows = new double[17][];
        for (int i = 0; i < 17; i++) { // recorded every 10 s from 0 to 160
            times[i] = i * 10;
            rows[i] = new double[] {2};
        }
        // 0..90 before the live rows, 120..140 in the gap; 100, 110 (live at the same time) and 150, 160 (a live
        // row within half the 10 s step) are not taken.
        assertEquals(13, table.merge(times, rows));
        double[] merged = table.times();
        assertEquals(11 + 6 + 13, merged.length);
        for (int i = 1; i < merged.length; i++) {
            assertTrue(merged[i] > merged[i - 1], "ascending without duplicates at " + merged[i]);
        }
        assertEquals(0, table.time(0));
        assertEquals(2, table.value(0, 0), "a history row keeps its values");
        assertEquals(1, table.value(0, table.firstAtOrAfter(100)), "the live row wins where both exist");
        assertEquals(2, table.value(0, table.firstAtOrAfter(120)), "history fills the gap");
        assertEquals(0, table.merge(times, rows), "merging the same history again adds nothing");
        table.add(156, 1);
        assertEquals(156, table.time(table.size() - 1), "live rows still append after a merge");
    }

    @Test
    void firstAtOrAfterFindsTheRangesStart() {
        SeriesTable table = new SeriesTable(1e9, "v");
        for (int t = 0; t < 10; t++) {
            table.add(t * 10, t);
        }
        assertEquals(0, table.firstAtOrAfter(-5));
        assertEquals(3, table.firstAtOrAfter(30));
        assertEquals(4, table.firstAtOrAfter(31));
        assertEquals(10, table.firstAtOrAfter(1000));
    }
}
