package org.memhygiene.core.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessKsmReaderTest {
    @TempDir
    Path proc;

    private void process(int pid, String comm, String file, String text) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("comm"), comm + "\n");
        if (file != null) {
            Files.writeString(dir.resolve(file), text);
        }
    }

    private static String ksmStat(long rmap, long zero, long merging, long profit, String any, String mergeable) {
        return "ksm_rmap_items " + rmap + "\nksm_zero_pages " + zero + "\nksm_merging_pages " + merging
                + "\nksm_process_profit " + profit + "\nksm_merge_any: " + any + "\nksm_mergeable: " + mergeable + "\n";
    }

    @Test
    void parsesKsmStatAsTheKernelPrintsIt() throws IOException {
        process(42, "qemu-system-x86", "ksm_stat", ksmStat(1000, 30, 500, 1998848, "no", "yes"));
        ProcessKsmStat stat = new ProcessKsmReader(proc).read(42).orElseThrow();
        assertEquals("qemu-system-x86", stat.name());
        assertEquals(OptionalLong.of(1000), stat.rmapItems());
        assertEquals(OptionalLong.of(30), stat.zeroPages());
        assertEquals(OptionalLong.of(500), stat.mergingPages());
        assertEquals(OptionalLong.of(1998848), stat.processProfitBytes());
        assertEquals(Optional.of(false), stat.mergeAny());
        assertEquals(Optional.of(true), stat.mergeable());
        assertEquals(530, stat.savedPages());
    }

    @Test
    void olderKernelsHaveOnlyKsmMergingPages() throws IOException {
        process(7, "old", "ksm_merging_pages", "12\n");
        ProcessKsmStat stat = new ProcessKsmReader(proc).read(7).orElseThrow();
        assertEquals(OptionalLong.of(12), stat.mergingPages());
        assertEquals(OptionalLong.empty(), stat.rmapItems());
        assertEquals(OptionalLong.empty(), stat.zeroPages());
    }

    @Test
    void topSortsBySavedPagesSkipsUntrackedAndNonPidEntries() throws IOException {
        process(1, "idle", "ksm_stat", ksmStat(0, 0, 0, 0, "no", "no"));
        process(2, "small", "ksm_stat", ksmStat(10, 0, 5, 0, "no", "yes"));
        process(3, "big", "ksm_stat", ksmStat(900, 100, 800, 0, "no", "yes"));
        process(4, "tracked-only", "ksm_stat", ksmStat(50, 0, 0, -3200, "no", "yes"));
        process(5, "kthread", "ksm_stat", "");
        process(6, "gone-mid-scan", null, null);
        Files.createDirectories(proc.resolve("self"));
        Files.createDirectories(proc.resolve("sys"));
        List<ProcessKsmStat> top = new ProcessKsmReader(proc).top(10).processes();
        assertEquals(List.of(3, 2, 4), top.stream().map(ProcessKsmStat::pid).toList());
        assertEquals("big", top.get(0).name());
        assertEquals(
                List.of(3),
                new ProcessKsmReader(proc)
                        .top(1).processes().stream().map(ProcessKsmStat::pid).toList());
        assertThrows(IllegalArgumentException.class, () -> new ProcessKsmReader(proc).top(0));
    }

    @Test
    void aProcessThatIsGoneIsEmpty() {
        assertFalse(new ProcessKsmReader(proc).read(999_999).isPresent());
    }

    @Test
    void readsThisProcessOnTheRealKernel() {
        Path self = Path.of("/proc/self/ksm_stat");
        Assumptions.assumeTrue(Files.exists(self), "skipped: kernel older than 6.1 (no " + self + ")");
        ProcessKsmStat stat = new ProcessKsmReader(ProcessKsmReader.DEFAULT_ROOT)
                .read((int) ProcessHandle.current().pid())
                .orElseThrow();
        assertTrue(stat.rmapItems().isPresent());
        assertTrue(stat.mergeable().isPresent());
        assertEquals("java", stat.name());
    }
}
