package org.memhygiene.controller.guestmemory;

import java.util.Arrays;
import org.memhygiene.core.procmem.KPageFlags;
import org.memhygiene.core.procmem.PagemapEntry;
import org.memhygiene.core.procmem.PfnTable;

/**
 * Puts each pagemap entry of guest RAM into one state, reading /proc/kpageflags only where the entry
 * cannot tell (a kpageflags read costs the kernel about 0.2 µs per frame, several times a pagemap entry):
 * <ul>
 * <li>not present: swapped ({@code PM_SWAP}), else not present; given back if {@code seen} holds it;</li>
 * <li>a PFN known to be the 4 KiB zero page (learnt from kpageflags; it never moves): zero;</li>
 * <li>a 2 MiB-aligned run of PMD-size pages with consecutive PFNs from a 2 MiB-aligned frame (how a
 *     huge page is mapped): one kpageflags read of its first frame — huge zero page, THP, HugeTLB, or
 *     else (physically adjacent small pages) each page on its own;</li>
 * <li>in a private mapping, a page not mapped exclusively ({@code PM_MMAP_EXCLUSIVE} clear: the zero
 *     pages, KSM pages that another mapping shares) or flagged {@code PM_FILE} (the huge zero page):
 *     kpageflags decides: zero, huge zero, KSM (with /proc/kpagecount for its sharers), or resident;</li>
 * <li>any other present page: resident. So a KSM page mapped once (its other sharers wrote to their
 *     copies) counts as resident: it saves nothing. A large folio mapped other than as an aligned run
 *     counts as resident without THP.</li>
 * </ul>
 * Shared mappings (memfd, files) never hold KSM or zero pages, so their pages are never looked up one by
 * one. Not thread-safe; one classifier serves every VM of a monitor, so what it learns is shared.
 */
final class PageClassifier {
    /** Queue positions take the low bits of a sort key, beside the PFN (PFNs stay far below 2^50). */
    private static final int POSITION_BITS = 14;

    static final int MAX_CHUNK_PAGES = 1 << POSITION_BITS;

    private final PfnTable flags;
    private final PfnTable counts;
    private final long pageSizeBytes;
    private final int pmdPages;
    private long[] zeroPfns = new long[0];
    private final Lookups first = new Lookups();
    private final Lookups second = new Lookups();
    private long[] ksmPfns = new long[0];
    private long[] ksmCounts = new long[0];
    private int ksmLookups;

    /**
     * @param counts   /proc/kpagecount, or null when it cannot be read (KSM sharers are then unknown)
     * @param pmdPages pages one PMD maps (hpage_pmd_size / page size): the size of a PMD-mapped huge page
     */
    PageClassifier(PfnTable flags, PfnTable counts, long pageSizeBytes, int pmdPages) {
        this.flags = flags;
        this.counts = counts;
        this.pageSizeBytes = pageSizeBytes;
        this.pmdPages = pmdPages;
    }

    boolean countsSharers() {
        return counts != null;
    }

    int pmdPages() {
        return pmdPages;
    }

    /**
     * Classifies {@code count} entries (at most {@link #MAX_CHUNK_PAGES}) of pages starting at
     * {@code firstAddress} into {@code tally}; {@code seen} (indexed from {@code seenIndex}) marks pages
     * found backed, for later passes.
     *
     * @throws PassFailure when a present page shows PFN 0: the reader cannot see PFNs
     */
    void classify(
            long[] entries,
            int count,
            long firstAddress,
            boolean sharedMapping,
            PageTally tally,
            PageBits seen,
            int seenIndex) {
        if (count > MAX_CHUNK_PAGES) {
            throw new IllegalArgumentException("at most " + MAX_CHUNK_PAGES + " pages at a time, got " + count);
        }
        first.reset(count);
        second.reset(count);
        if (ksmPfns.length < count) {
            ksmPfns = new long[count];
            ksmCounts = new long[count];
        }
        ksmLookups = 0;
        long pmdBytes = pmdPages * pageSizeBytes;
        int i = 0;
        while (i < count) {
            long entry = entries[i];
            if (!PagemapEntry.present(entry)) {
                if (PagemapEntry.swapped(entry)) {
                    tally.swapped++;
                    seen.set(seenIndex + i);
                } else {
                    tally.notPresent++;
                    if (seen.get(seenIndex + i)) {
                        tally.givenBack++;
                    }
                }
                i++;
                continue;
            }
            long pfn = PagemapEntry.pfn(entry);
            if (pfn == 0) {
                throw new PassFailure("pagemap shows PFN 0 for present pages: the reader lacks CAP_SYS_ADMIN"
                        + " (Documentation/admin-guide/mm/pagemap.rst)");
            }
            if (isZeroPfn(pfn)) {
                tally.zero(seen, seenIndex + i, 1);
                i++;
                continue;
            }
            if ((firstAddress + i * pageSizeBytes) % pmdBytes == 0 && isHugeRun(entries, i, count)) {
                first.add(pfn, i, true);
                i += pmdPages;
                continue;
            }
            if (needsLookup(entry, sharedMapping)) {
                first.add(pfn, i, false);
            } else {
                tally.resident++;
                seen.set(seenIndex + i);
            }
            i++;
        }
        if (first.size == 0) {
            return;
        }
        first.lookUp(flags);
        for (int k = 0; k < first.size; k++) {
            int index = first.indexes[k];
            long pageFlags = first.flags[k];
            if (!first.runs[k]) {
                single(first.pfns[k], pageFlags, index, tally, seen, seenIndex);
            } else if (KPageFlags.has(pageFlags, KPageFlags.ZERO_PAGE)) {
                tally.hugeZero += pmdPages;
            } else if (KPageFlags.has(pageFlags, KPageFlags.HUGE)) {
                tally.resident += pmdPages;
                tally.hugetlb += pmdPages;
                seen.set(seenIndex + index, seenIndex + index + pmdPages);
            } else if (KPageFlags.has(pageFlags, KPageFlags.THP)) {
                tally.resident += pmdPages;
                tally.thp += pmdPages;
                seen.set(seenIndex + index, seenIndex + index + pmdPages);
            } else {
                // Physically adjacent small pages, not a huge page: each on its own.
                for (int j = index; j < index + pmdPages; j++) {
                    if (needsLookup(entries[j], sharedMapping)) {
                        second.add(PagemapEntry.pfn(entries[j]), j, false);
                    } else {
                        tally.resident++;
                        seen.set(seenIndex + j);
                    }
                }
            }
        }
        if (second.size > 0) {
            second.lookUp(flags);
            for (int k = 0; k < second.size; k++) {
                single(second.pfns[k], second.flags[k], second.indexes[k], tally, seen, seenIndex);
            }
        }
        countSharers(tally);
    }

    private void single(long pfn, long pageFlags, int index, PageTally tally, PageBits seen, int seenIndex) {
        if (KPageFlags.has(pageFlags, KPageFlags.ZERO_PAGE)) {
            if (KPageFlags.has(pageFlags, KPageFlags.THP)) {
                tally.hugeZero++;
                return;
            }
            learnZeroPfn(pfn);
            tally.zero(seen, seenIndex + index, 1);
            return;
        }
        if (KPageFlags.has(pageFlags, KPageFlags.KSM)) {
            tally.ksm++;
            ksmPfns[ksmLookups++] = pfn;
        } else {
            tally.resident++;
            if (KPageFlags.has(pageFlags, KPageFlags.THP)) {
                tally.thp++;
            } else if (KPageFlags.has(pageFlags, KPageFlags.HUGE)) {
                tally.hugetlb++;
            }
        }
        seen.set(seenIndex + index);
    }

    private void countSharers(PageTally tally) {
        if (counts == null || ksmLookups == 0) {
            return;
        }
        Arrays.sort(ksmPfns, 0, ksmLookups);
        counts.lookup(ksmPfns, ksmLookups, ksmCounts);
        for (int k = 0; k < ksmLookups; k++) {
            // A count of 0 would be a frame unmapped since pagemap was read: it saves nothing.
            long mappings = Math.max(1, ksmCounts[k]);
            tally.ksmSaved += 1.0 - 1.0 / mappings;
        }
    }

    /** Private mappings only: a page not mapped exclusively, or the huge zero page's PM_FILE. */
    private static boolean needsLookup(long entry, boolean sharedMapping) {
        return !sharedMapping && (!PagemapEntry.exclusive(entry) || PagemapEntry.file(entry));
    }

    /** Entries {@code [i, i + pmdPages)}: all present alike, consecutive PFNs from an aligned first frame. */
    private boolean isHugeRun(long[] entries, int i, int count) {
        if (i + pmdPages > count) {
            return false;
        }
        long pfn = PagemapEntry.pfn(entries[i]);
        if (pfn % pmdPages != 0) {
            return false;
        }
        long kind = entries[i] & ~PagemapEntry.PFN_MASK & ~PagemapEntry.SOFT_DIRTY;
        for (int j = 1; j < pmdPages; j++) {
            long entry = entries[i + j];
            if (PagemapEntry.pfn(entry) != pfn + j
                    || (entry & ~PagemapEntry.PFN_MASK & ~PagemapEntry.SOFT_DIRTY) != kind) {
                return false;
            }
        }
        return true;
    }

    private boolean isZeroPfn(long pfn) {
        for (long zero : zeroPfns) {
            if (zero == pfn) {
                return true;
            }
        }
        return false;
    }

    /** Some architectures (MIPS, s390, LoongArch) have several zero pages, one per cache colour. */
    private void learnZeroPfn(long pfn) {
        if (!isZeroPfn(pfn)) {
            zeroPfns = Arrays.copyOf(zeroPfns, zeroPfns.length + 1);
            zeroPfns[zeroPfns.length - 1] = pfn;
        }
    }

    /** Frames to look up in kpageflags for one chunk: PFN, the entry's index, whether it heads a huge run. */
    private static final class Lookups {
        long[] pfns = new long[0];
        int[] indexes = new int[0];
        boolean[] runs = new boolean[0];
        long[] flags = new long[0];
        private long[] keys = new long[0];
        private int[] indexesSorted = new int[0];
        private boolean[] runsSorted = new boolean[0];
        int size;

        void reset(int capacity) {
            if (pfns.length < capacity) {
                pfns = new long[capacity];
                indexes = new int[capacity];
                runs = new boolean[capacity];
                flags = new long[capacity];
                keys = new long[capacity];
                indexesSorted = new int[capacity];
                runsSorted = new boolean[capacity];
            }
            size = 0;
        }

        void add(long pfn, int index, boolean run) {
            if (pfn >>> (63 - POSITION_BITS) != 0) {
                throw new PassFailure("PFN 0x" + Long.toHexString(pfn) + " is beyond any physical address");
            }
            pfns[size] = pfn;
            indexes[size] = index;
            runs[size] = run;
            size++;
        }

        /** Sorts by PFN (a primitive sort of PFN << 14 | position) and reads every frame's flags. */
        void lookUp(PfnTable table) {
            for (int k = 0; k < size; k++) {
                keys[k] = pfns[k] << POSITION_BITS | k;
            }
            Arrays.sort(keys, 0, size);
            for (int k = 0; k < size; k++) {
                int position = (int) (keys[k] & (MAX_CHUNK_PAGES - 1));
                indexesSorted[k] = indexes[position];
                runsSorted[k] = runs[position];
                pfns[k] = keys[k] >>> POSITION_BITS;
            }
            System.arraycopy(indexesSorted, 0, indexes, 0, size);
            System.arraycopy(runsSorted, 0, runs, 0, size);
            table.lookup(pfns, size, flags);
        }
    }
}
