package org.memhygiene.simulator.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.model.Content;

/** The trees' content table: columns, NUMA nodes, chunks and images kept apart; unique content refused. */
class ContentTableTest {
    private final ContentTable table = new ContentTable();

    @Test
    void eachContentNodeAndColumnHoldsItsOwnValue() {
        int[] contents = {
            Content.ZERO,
            Content.shared(Content.OS_IMAGE, 1, 0),
            Content.shared(Content.OS_IMAGE, 1, ContentTable.CHUNK_CONTENTS - 1),
            Content.shared(Content.OS_IMAGE, 1, ContentTable.CHUNK_CONTENTS), // the next chunk
            Content.shared(Content.OS_IMAGE, 2, 0), // another image
            Content.shared(Content.PAGE_CACHE, 1, 0), // another class
            Content.shared(Content.SECRET, 127, Content.MAX_SHARED_INDEX)
        };
        for (int i = 0; i < contents.length; i++) {
            table.put(contents[i], 0, ContentTable.STABLE, i);
            table.put(contents[i], 0, ContentTable.UNSTABLE, 100L << 32 | i);
            table.put(contents[i], 2, ContentTable.STABLE, 1000 + i);
        }
        for (int i = 0; i < contents.length; i++) {
            String at = "content " + Integer.toHexString(contents[i]);
            assertEquals(i, table.get(contents[i], 0, ContentTable.STABLE), at);
            assertEquals(100L << 32 | i, table.get(contents[i], 0, ContentTable.UNSTABLE), at);
            assertEquals(1000 + i, table.get(contents[i], 2, ContentTable.STABLE), at + " on node 2");
            assertEquals(ContentTable.EMPTY, table.get(contents[i], 1, ContentTable.STABLE), at + " on node 1");
            assertEquals(ContentTable.EMPTY, table.get(contents[i], 2, ContentTable.UNSTABLE), at + " on node 2");
        }
        assertEquals(ContentTable.EMPTY, table.get(Content.shared(Content.OS_IMAGE, 1, 1), 0, ContentTable.STABLE));
        assertEquals(ContentTable.EMPTY, table.get(Content.shared(Content.OS_IMAGE, 3, 0), 0, ContentTable.STABLE));
        table.put(contents[1], 0, ContentTable.STABLE, ContentTable.EMPTY);
        assertEquals(ContentTable.EMPTY, table.get(contents[1], 0, ContentTable.STABLE));
        assertEquals(100L << 32 | 1, table.get(contents[1], 0, ContentTable.UNSTABLE), "the other column stays");
    }

    @Test
    void uniqueContentIsRefusedByName() {
        int unique = Content.unique(Content.ANON, 5);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> table.get(unique, 0, ContentTable.STABLE));
        assertEquals("content " + Integer.toHexString(unique) + " is unique: never searched", e.getMessage());
    }
}
