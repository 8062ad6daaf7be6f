package org.memhygiene.simulator.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The stable tree's index against java.util.HashMap: puts, replacements, removals, growth, the presence bits' rebuilds. */
class LongIntMapTest {
    @Test
    void answersAsAHashMapDoesThroughGrowthAndRemovals() {
        SplittableRandom random = new SplittableRandom(7);
        LongIntMap map = new LongIntMap(16);
        Map<Long, Integer> expected = new HashMap<>();
        for (int step = 0; step < 400_000; step++) {
            // Keys as the stable tree makes them: a NUMA node over a content id, clustered and sparse.
            long key = (long) random.nextInt(2) << 32 | (random.nextInt(50_000) * 37L & 0xFFFFFFFFL);
            int op = random.nextInt(step < 200_000 ? 3 : 5);
            if (op == 0) {
                int value = random.nextInt(Integer.MAX_VALUE);
                map.put(key, value);
                expected.put(key, value);
            } else if (op >= 3) {
                map.remove(key);
                expected.remove(key);
            }
            assertEquals(expected.getOrDefault(key, -1), map.get(key), "step " + step + " key " + key);
        }
        for (Map.Entry<Long, Integer> e : expected.entrySet()) {
            assertEquals(e.getValue(), map.get(e.getKey()));
        }
    }
}
