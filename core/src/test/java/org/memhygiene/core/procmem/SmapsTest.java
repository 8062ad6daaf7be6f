package org.memhygiene.core.procmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SmapsTest {
    private static final Path PROC = Path.of("/proc");
    private static final int SELF = (int) ProcessHandle.current().pid();

    @Test
    void smapsOfThisProcessAgreesWithItsMapsAndRollup() {
        List<SmapsEntry> smaps = Smaps.read(PROC, SELF);
        SmapsEntry rollup = Smaps.readRollup(PROC, SELF);
        assertEquals("[rollup]", rollup.mapping().path());
        assertTrue(rollup.rssBytes().getAsLong() > 0);
        assertTrue(rollup.vmFlags().isEmpty());
        long rssSum = smaps.stream().mapToLong(e -> e.rssBytes().getAsLong()).sum();
        // The JVM's threads allocate between the two reads: close, not equal.
        assertTrue(Math.abs(rssSum - rollup.rssBytes().getAsLong()) < 64L << 20, rssSum + " vs " + rollup);
        SmapsEntry stack = smaps.stream()
                .filter(e -> e.mapping().path().equals("[stack]"))
                .findFirst()
                .orElseThrow();
        assertTrue(
                stack.vmFlags().containsAll(Set.of("rd", "wr", "gd")),
                stack.vmFlags().toString());
        assertTrue(stack.bytes("Size").getAsLong() == stack.mapping().sizeBytes());
    }

    @Test
    void fieldsOfANewerKernelAndLinesWithoutKbAreSkipped() {
        List<SmapsEntry> entries = Smaps.parse("""
                7f0000000000-7f0000200000 rw-p 00000000 00:00 0\s
                Size:               2048 kB
                Rss:                 512 kB
                AnonHugePages:         0 kB
                THPeligible:    1
                FutureField:          12 kB
                VmFlags: rd wr mr mw me ac hg mg\s
                7f0000200000-7f0000201000 r--s 00000000 00:01 3                          /dev/zero (deleted)
                Rss:                   4 kB
                """, Path.of("smaps"));
        assertEquals(2, entries.size());
        assertEquals(512 * 1024, entries.get(0).rssBytes().getAsLong());
        assertEquals(12 * 1024, entries.get(0).bytes("FutureField").getAsLong());
        assertTrue(entries.get(0).bytes("THPeligible").isEmpty());
        assertEquals(
                Set.of("rd", "wr", "mr", "mw", "me", "ac", "hg", "mg"),
                entries.get(0).vmFlags());
        assertTrue(entries.get(1).swapBytes().isEmpty(), "absent, not 0");
    }

    @Test
    void malformedTextIsAnErrorNamingTheLine() {
        ProcMemException beforeHeader =
                assertThrows(ProcMemException.class, () -> Smaps.parse("Rss: 4 kB\n", Path.of("smaps")));
        assertEquals("smaps: line 1 comes before any mapping header: Rss: 4 kB", beforeHeader.getMessage());
        ProcMemException notANumber = assertThrows(
                ProcMemException.class,
                () -> Smaps.parse(
                        "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nRss: lots kB\n", Path.of("smaps")));
        assertEquals("smaps: line 2: 'Rss' is not a number of kB: lots kB", notANumber.getMessage());
    }
}
