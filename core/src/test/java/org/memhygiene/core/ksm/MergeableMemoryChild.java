package org.memhygiene.core.ksm;

import com.sun.jna.Pointer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * A real process for KSM to merge: maps anonymous memory, fills {@code identicalPages} pages with the
 * same non-zero byte {@code fill} (pick one per run, so two runs do not merge with each other) and writes one zero byte into each of {@code zeroPages} pages (a write fault
 * gives each a private zero-filled page), marks it all MADV_MERGEABLE, prints "ready" and waits for
 * its standard input to close.
 */
public final class MergeableMemoryChild {
    private MergeableMemoryChild() {}

    /**
     * Starts the child in a JVM of its own with this test's class path and a fill byte of its own (so two runs do
     * not merge with each other); returns once it printed "ready", its memory mapped, filled and mergeable.
     */
    public static Process start(int identicalPages, int zeroPages) throws IOException {
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx32m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        MergeableMemoryChild.class.getName(),
                        Integer.toString(identicalPages),
                        Integer.toString(zeroPages),
                        Integer.toString(1 + new Random().nextInt(255)))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String first =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (!"ready".equals(first)) {
            child.destroyForcibly();
            throw new IllegalStateException("the mergeable child did not start: it printed " + first);
        }
        return child;
    }

    public static void main(String[] args) throws IOException {
        int identicalPages = Integer.parseInt(args[0]);
        int zeroPages = Integer.parseInt(args[1]);
        byte fill = (byte) Integer.parseInt(args[2]);
        long page = LinuxMemory.pageSizeBytes();
        long length = (identicalPages + zeroPages) * page;
        Pointer memory = LinuxMemory.mapAnonymous(length);
        // Small pages only, so that every page is one KSM candidate and the counts are exact.
        LinuxMemory.madvise(memory, length, LinuxMemory.MADV_NOHUGEPAGE);
        for (long i = 0; i < identicalPages; i++) {
            memory.setMemory(i * page, page, fill);
        }
        for (long i = identicalPages; i < identicalPages + zeroPages; i++) {
            memory.setByte(i * page, (byte) 0);
        }
        LinuxMemory.madvise(memory, length, LinuxMemory.MADV_MERGEABLE);
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold the memory until the test closes our input
        }
    }
}
