package org.memhygiene.controller.probe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.memhygiene.core.canary.CanaryDerivation;
import org.memhygiene.core.procmem.KPageFlags;
import org.memhygiene.core.procmem.MemoryMapping;
import org.memhygiene.core.procmem.PagemapEntry;
import org.memhygiene.core.procmem.PagemapReader;
import org.memhygiene.core.procmem.PfnTable;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.ProcessMaps;

/**
 * The host's truth of a probe: where a process (a VM's QEMU) holds the canary pages, found by their contents
 * in its memory (/proc/PID/mem, read only where /proc/PID/pagemap says a page is present, so nothing is
 * faulted or swapped in), and which page frame backs each (pagemap's PFN, with /proc/kpageflags' KSM bit).
 * PFNs are visible only with CAP_SYS_ADMIN; without it pagemap's exclusive bit still tells a page shared by
 * several mappings from one that is not, and the frame is inferred (Documentation/admin-guide/mm/pagemap.rst).
 * Reading a page does not unmerge it: only a write breaks a KSM page's sharing.
 */
public final class CanaryLocator {
    /** Pages per pread of pagemap and of memory: 2 MiB with 4 KiB pages. */
    private static final int CHUNK_PAGES = 512;

    private final Path procRoot;
    private final int pageSizeBytes;

    public CanaryLocator(Path procRoot, long pageSizeBytes) {
        this.procRoot = procRoot;
        this.pageSizeBytes = Math.toIntExact(pageSizeBytes);
    }

    /**
     * Where one process holds the canary pages.
     *
     * @param found    per canary page index: whether its contents were found in the process's memory
     * @param frames   per canary page index: its page frame, or -1 where not found or not visible
     * @param ksm      per canary page index: backed by a KSM page (kpageflags), or, without PFNs, shared with
     *                 another mapping (pagemap's exclusive bit clear)
     * @param framesVisible whether {@code frames} holds PFNs (CAP_SYS_ADMIN and a readable /proc/kpageflags)
     */
    public record Located(boolean[] found, long[] frames, boolean[] ksm, boolean framesVisible) {
        public int foundCount() {
            return count(found);
        }

        public int ksmCount() {
            return count(ksm);
        }

        private static int count(boolean[] flags) {
            int n = 0;
            for (boolean f : flags) {
                n += f ? 1 : 0;
            }
            return n;
        }
    }

    /**
     * Finds the {@code pages} canary pages of {@code nonce} in the memory of {@code pid}.
     *
     * @throws ProcMemException when the process's maps, pagemap or memory cannot be read (it exited, no
     *                          permission)
     */
    public Located locate(int pid, byte[] nonce, int pages) {
        Map<Long, List<Integer>> byPrefix = new HashMap<>();
        byte[][] expected = new byte[pages][];
        for (int i = 0; i < pages; i++) {
            expected[i] = CanaryDerivation.page(nonce, i, pageSizeBytes);
            byPrefix.computeIfAbsent(prefix(ByteBuffer.wrap(expected[i]), 0), k -> new ArrayList<>(1))
                    .add(i);
        }
        boolean[] found = new boolean[pages];
        long[] entries = new long[pages];
        List<MemoryMapping> maps = ProcessMaps.read(procRoot, pid);
        Path memPath = procRoot.resolve(Integer.toString(pid)).resolve("mem");
        ByteBuffer pagemapScratch = ByteBuffer.allocateDirect(CHUNK_PAGES * 8).order(ByteOrder.nativeOrder());
        ByteBuffer memory = ByteBuffer.allocateDirect(CHUNK_PAGES * pageSizeBytes);
        long[] chunk = new long[CHUNK_PAGES];
        try (PagemapReader pagemap = PagemapReader.open(procRoot, pid, pageSizeBytes, pagemapScratch);
                FileChannel mem = FileChannel.open(memPath, StandardOpenOption.READ)) {
            for (MemoryMapping m : maps) {
                if (!m.readable() || m.shared() || m.path().startsWith("[v")) {
                    continue; // KSM merges private anonymous memory only; [vvar] and [vsyscall] cannot be read
                }
                for (long start = m.startAddress(); start < m.endAddress(); ) {
                    int count = (int) Math.min(CHUNK_PAGES, (m.endAddress() - start) / pageSizeBytes);
                    int read = pagemap.read(start, chunk, 0, count);
                    scanPresentRuns(mem, memory, start, chunk, read, expected, byPrefix, found, entries);
                    start += (long) count * pageSizeBytes;
                }
            }
        } catch (IOException e) {
            throw ProcMemException.of(memPath, e);
        }
        long[] frames = new long[pages];
        Arrays.fill(frames, -1);
        boolean[] ksm = new boolean[pages];
        boolean framesVisible = false;
        for (int i = 0; i < pages; i++) {
            if (found[i] && PagemapEntry.pfn(entries[i]) != 0) {
                frames[i] = PagemapEntry.pfn(entries[i]);
                framesVisible = true;
            }
        }
        if (framesVisible && Files.isReadable(procRoot.resolve("kpageflags"))) {
            lookupKsm(frames, ksm);
        } else {
            framesVisible = false;
            Arrays.fill(frames, -1);
            for (int i = 0; i < pages; i++) {
                ksm[i] = found[i] && !PagemapEntry.exclusive(entries[i]);
            }
        }
        return new Located(found, frames, ksm, framesVisible);
    }

    private void scanPresentRuns(
            FileChannel mem,
            ByteBuffer memory,
            long start,
            long[] chunk,
            int count,
            byte[][] expected,
            Map<Long, List<Integer>> byPrefix,
            boolean[] found,
            long[] entries) {
        int i = 0;
        while (i < count) {
            if (!PagemapEntry.present(chunk[i])) {
                i++;
                continue;
            }
            int j = i;
            while (j < count && PagemapEntry.present(chunk[j])) {
                j++;
            }
            memory.clear().limit((j - i) * pageSizeBytes);
            long address = start + (long) i * pageSizeBytes;
            int got = 0;
            try {
                while (memory.hasRemaining()) {
                    int n = mem.read(memory, address + got);
                    if (n <= 0) {
                        break;
                    }
                    got += n;
                }
            } catch (IOException e) {
                // A page the kernel will not read out (EIO: a guard page, device memory): not a canary page.
            }
            for (int p = 0; p < got / pageSizeBytes; p++) {
                List<Integer> candidates = byPrefix.get(prefix(memory, p * pageSizeBytes));
                if (candidates == null) {
                    continue;
                }
                for (int index : candidates) {
                    if (!found[index] && equal(memory, p * pageSizeBytes, expected[index])) {
                        found[index] = true;
                        entries[index] = chunk[i + p];
                    }
                }
            }
            i = j;
        }
    }

    private static long prefix(ByteBuffer buffer, int offset) {
        return buffer.order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
    }

    private static boolean equal(ByteBuffer memory, int offset, byte[] page) {
        return memory.slice(offset, page.length).equals(ByteBuffer.wrap(page));
    }

    private void lookupKsm(long[] frames, boolean[] ksm) {
        Integer[] order = new Integer[frames.length];
        int n = 0;
        for (int i = 0; i < frames.length; i++) {
            if (frames[i] >= 0) {
                order[n++] = i;
            }
        }
        Integer[] present = Arrays.copyOf(order, n);
        Arrays.sort(present, (a, b) -> Long.compare(frames[a], frames[b]));
        long[] sorted = new long[n];
        for (int k = 0; k < n; k++) {
            sorted[k] = frames[present[k]];
        }
        long[] flags = new long[n];
        try (PfnTable kpageflags =
                PfnTable.openFlags(procRoot, ByteBuffer.allocateDirect(64 * 8).order(ByteOrder.nativeOrder()))) {
            kpageflags.lookup(sorted, n, flags);
        }
        for (int k = 0; k < n; k++) {
            ksm[present[k]] = KPageFlags.has(flags[k], KPageFlags.KSM);
        }
    }
}
