package org.memhygiene.core.ksm;

import com.sun.jna.Pointer;
import java.io.IOException;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * A real process for KSM to merge: maps anonymous memory, fills {@code identicalPages} pages with the
 * same non-zero byte {@code fill} (pick one per run, so two runs do not merge with each other) and writes one zero byte into each of {@code zeroPages} pages (a write fault
 * gives each a private zero-filled page), marks it all MADV_MERGEABLE, prints "ready" and waits for
 * its standard input to close.
 */
public final class MergeableMemoryChild {
    private MergeableMemoryChild() {}

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
