package org.memhygiene.core.procmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessMapsTest {
    private static final Path SOURCE = Path.of("/proc/42/maps");

    @Test
    void readsThisProcesssOwnMaps() {
        List<MemoryMapping> maps =
                ProcessMaps.read(Path.of("/proc"), (int) ProcessHandle.current().pid());
        assertTrue(maps.stream().anyMatch(m -> m.path().equals("[stack]")), "a [stack] line");
        assertTrue(maps.stream().anyMatch(m -> m.path().endsWith("/libjvm.so") && m.executable()), "libjvm's code");
        assertTrue(maps.stream().allMatch(m -> Long.compareUnsigned(m.startAddress(), m.endAddress()) < 0));
    }

    @Test
    void keepsOddNamesWhole() {
        List<MemoryMapping> maps = ProcessMaps.parse("""
                7f0000000000-7f0000001000 rw-s 00002000 00:01 17                         /memfd:pc.ram (deleted)
                7f0000001000-7f0000002000 r--p 00000000 08:01 99                         /tmp/a  b\\012c
                7f0000002000-7f0000003000 rw-p 00000000 00:00 0                          [anon:guest ram]
                7f0000003000-7f0000004000 rw-p 00000000 00:00 0\s
                ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
                """, SOURCE);
        assertEquals("/memfd:pc.ram (deleted)", maps.get(0).path());
        assertTrue(maps.get(0).memfd() && maps.get(0).shared() && !maps.get(0).anonymous());
        assertEquals(0x2000, maps.get(0).offsetBytes());
        assertEquals("00:01", maps.get(0).device());
        assertEquals(17, maps.get(0).inode());
        assertEquals("/tmp/a  b\\012c", maps.get(1).path(), "two spaces and an escaped newline kept");
        assertTrue(maps.get(2).anonymous(), "a user-named anonymous mapping");
        assertTrue(maps.get(3).anonymous() && maps.get(3).path().isEmpty());
        assertEquals(4096, maps.get(4).sizeBytes(), "kernel addresses above 2^63 are unsigned");
        assertFalse(maps.get(4).writable());
    }

    @Test
    void aMalformedLineIsAnErrorNamingTheFileAndLine() {
        ProcMemException e = assertThrows(
                ProcMemException.class,
                () -> ProcessMaps.parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nnot a mapping\n", SOURCE));
        assertEquals(ProcMemException.Kind.MALFORMED, e.kind());
        assertTrue(
                e.getMessage().startsWith("/proc/42/maps: line 2 is not 'start-end perms offset dev inode [name]'"),
                e.getMessage());
        assertThrows(
                ProcMemException.class,
                () -> ProcessMaps.parse("7f0000001000-7f0000000000 rw-p 0 00:00 0 \n", SOURCE),
                "end before start");
        assertThrows(
                ProcMemException.class,
                () -> ProcessMaps.parse("7f0000000000-7f0000001000 rw 0 00:00 0 \n", SOURCE),
                "three permission letters");
    }

    @Test
    void tooManyMappingsOrBytesAreRefused(@TempDir Path proc) throws Exception {
        String line = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        ProcMemException many = assertThrows(
                ProcMemException.class, () -> ProcessMaps.parse(line.repeat(ProcessMaps.MAX_MAPPINGS + 1), SOURCE));
        assertEquals("/proc/42/maps: more than 262144 mappings", many.getMessage());
        Files.createDirectories(proc.resolve("7"));
        Files.writeString(proc.resolve("7/maps"), "x".repeat(ProcessMaps.MAX_BYTES + 1));
        ProcMemException big = assertThrows(ProcMemException.class, () -> ProcessMaps.read(proc, 7));
        assertEquals(proc.resolve("7/maps") + ": larger than 67108864 bytes", big.getMessage());
    }

    @Test
    void aProcessThatIsGoneSaysSo(@TempDir Path proc) {
        ProcMemException gone = assertThrows(ProcMemException.class, () -> ProcessMaps.read(proc, 999_999));
        assertEquals(ProcMemException.Kind.GONE, gone.kind());
        assertEquals(proc.resolve("999999/maps") + ": the process exited", gone.getMessage());
    }
}
