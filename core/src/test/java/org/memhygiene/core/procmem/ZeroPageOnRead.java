package org.memhygiene.core.procmem;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * Whether this kernel maps the shared zero page on a read fault of never-written anonymous memory, as
 * do_anonymous_page does unless mm_forbids_zeropage. Some do not: a PVM guest kernel booted with
 * {@code pvm_no_zero_page=1} gives the read its own zero-filled page, so the tests that read pages to put
 * them on the zero page see resident private pages there instead, and can only check that. Probed once,
 * on a page of this process (the exclusive bit of pagemap needs no privilege).
 */
public final class ZeroPageOnRead {
    private static final boolean MAPPED = probe();

    private ZeroPageOnRead() {}

    /** True when a read fault maps the zero page here; false, printed once with the reason, when not. */
    public static boolean mapsZeroPage() {
        return MAPPED;
    }

    private static boolean probe() {
        long page = LinuxMemory.pageSizeBytes();
        Pointer memory = LinuxMemory.mapAnonymous(page);
        try (PagemapReader pagemap = PagemapReader.open(
                Path.of("/proc"), (int) ProcessHandle.current().pid(), page, ByteBuffer.allocateDirect(64))) {
            LinuxMemory.madvise(memory, page, LinuxMemory.MADV_NOHUGEPAGE);
            memory.getByte(0);
            long[] entry = new long[1];
            pagemap.read(Pointer.nativeValue(memory), entry, 0, 1);
            boolean zero = PagemapEntry.present(entry[0]) && !PagemapEntry.exclusive(entry[0]);
            if (!zero) {
                System.out.println("zero-page assertions skipped: this kernel gives a read fault of never-written"
                        + " memory its own page, not the zero page" + commandLineReason());
            }
            return zero;
        } finally {
            LinuxMemory.unmap(memory, page);
        }
    }

    private static String commandLineReason() {
        try {
            String cmdline = Files.readString(Path.of("/proc/cmdline"));
            return cmdline.contains("pvm_no_zero_page=1") ? " (pvm_no_zero_page=1 on its command line)" : "";
        } catch (IOException e) {
            return "";
        }
    }
}
