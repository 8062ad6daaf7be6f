package org.memhygiene.core.procmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One open descriptor read again and again: it sees the file as it is now, and a process that exited reads as gone. */
class RereadableFileTest {
    @Test
    void eachReadIsTheFileAsItIsNow(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "first\n");
        try (RereadableFile f = RereadableFile.open(file, 64)) {
            assertEquals("first\n", f.read());
            Files.writeString(file, "second, longer\n");
            assertEquals("second, longer\n", f.read());
            Files.writeString(file, "x".repeat(65));
            ProcMemException tooLong = assertThrows(ProcMemException.class, f::read);
            assertEquals(file + ": larger than 64 bytes", tooLong.getMessage());
        }
    }

    @Test
    void aProcFileIsGeneratedAnewAndItsProcessExitingEndsIt() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        Path status = Path.of("/proc", Long.toString(sleeper.pid()), "status");
        try (RereadableFile f = RereadableFile.open(status, 64 * 1024)) {
            String first = f.read();
            assertTrue(first.startsWith("Name:\tsleep\n"), first);
            assertEquals(
                    first.lines().filter(l -> l.startsWith("Pid:")).toList(),
                    f.read().lines().filter(l -> l.startsWith("Pid:")).toList());
            sleeper.destroyForcibly();
            assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS));
            String after;
            try {
                after = f.read();
            } catch (ProcMemException e) {
                after = "";
            }
            assertEquals("", after, "the exited process's file reads nothing (or fails)");
        } finally {
            sleeper.destroyForcibly();
        }
        ProcMemException gone = assertThrows(ProcMemException.class, () -> RereadableFile.open(status, 64));
        assertEquals(ProcMemException.Kind.GONE, gone.kind());
    }
}
