package org.memhygiene.simulator.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The treap answers as a TreeMap does, over the operations a stable node chain makes of it. */
class LongIntTreapTest {
    @Test
    void answersAsATreeMapDoesOverRandomOperations() {
        SplittableRandom random = new SplittableRandom(17);
        LongIntTreap treap = new LongIntTreap();
        TreeMap<Long, Integer> reference = new TreeMap<>();
        List<Long> present = new ArrayList<>();
        for (int op = 0; op < 200_000; op++) {
            int kind = random.nextInt(10);
            if (kind < 4 || present.isEmpty()) {
                // (length, sequence) keys as the chain makes them: few lengths, many sequences.
                long key = (long) random.nextInt(300) << 32 | random.nextInt(5_000);
                if (!reference.containsKey(key)) {
                    int value = random.nextInt();
                    treap.put(key, value);
                    reference.put(key, value);
                    present.add(key);
                }
            } else if (kind < 7) {
                long key = present.remove(random.nextInt(present.size()));
                treap.remove(key);
                reference.remove(key);
            } else {
                long bound = (long) random.nextInt(320) << 32 | 0xFFFFFFFFL;
                Map.Entry<Long, Integer> floor = reference.floorEntry(bound);
                int e = treap.floor(bound);
                assertEquals(
                        floor == null ? null : List.of(floor.getKey(), (long) floor.getValue()),
                        e < 0 ? null : List.of(treap.key(e), (long) treap.value(e)),
                        "floor of " + bound);
            }
            assertEquals(reference.size(), treap.size());
            int first = treap.first();
            assertEquals(reference.isEmpty() ? null : reference.firstKey(), first < 0 ? null : treap.key(first));
        }
    }

    @Test
    void removingAnAbsentKeyIsAnError() {
        LongIntTreap treap = new LongIntTreap();
        treap.put(5, 1);
        assertThrows(IllegalStateException.class, () -> treap.remove(6));
    }
}
