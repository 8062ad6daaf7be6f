package org.memhygiene.ui.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
