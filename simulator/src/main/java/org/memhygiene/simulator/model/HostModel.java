package org.memhygiene.simulator.model;

import java.util.Arrays;
import java.util.List;
import org.memhygiene.simulator.ksm.SettledPages;
import org.memhygiene.simulator.ksm.StableTree;

/**
 * Every simulated guest page of the host in primitive arrays, 10 bytes per page: content id, an int
 * slot (the rmap item's old checksum, or its stable node while merged), a flag byte and a smart-scan
 * age byte. Guest-side page operations (write, free, allocate, discard) live here and keep the
 * per-guest counters and the stable tree's live mappings in step; ksmd's side is in
 * {@link org.memhygiene.simulator.ksm.Ksmd}.
 */
public final class HostModel {
    /** Marks, in {@link #age}, a page the guest reported free and the host discarded. */
    public static final byte AGE_REPORTED = (byte) 0xFF;
    /** The most pages one host may have: the page index is an int, with room for the scan's sentinels. */
    public static final int MAX_PAGES = Integer.MAX_VALUE - 16;
    /** Heap per page of the arrays below (content, slot, flags, age). */
    public static final int BYTES_PER_PAGE = Integer.BYTES * 2 + 2;

    public final int[] content;
    public final int[] slot;
    public final byte[] flags;
    /** Low nibble: rmap item age (saturating at 15); high nibble: remaining skips (smart_scan). */
    public final byte[] age;

    public final Guest[] guests;
    public final int pageCount;
    public final StableTree stable = new StableTree();
    private final int[] guestBases;

    /** The skipping scan engine's index, told of every write and discard; null with the page-by-page engine. */
    public SettledPages settled;

    /** ksm_zero_pages: pages mapped to the zero page by KSM; falls at once when one is written or unmapped. */
    public long ksmZeroPages;

    /** Per page class, the serial of its next unique content. */
    private final long[] uniqueSerials = new long[8];

    public HostModel(List<Guest> guestList, int pageCount) {
        this.guests = guestList.toArray(new Guest[0]);
        this.pageCount = pageCount;
        content = new int[pageCount];
        slot = new int[pageCount];
        flags = new byte[pageCount];
        age = new byte[pageCount];
        guestBases = new int[guests.length];
        for (int i = 0; i < guests.length; i++) {
            guestBases[i] = guests[i].base;
        }
    }

    /** The guest a page belongs to (binary search over the guests' contiguous ranges). */
    public Guest guestOf(int page) {
        int lo = 0;
        int hi = guestBases.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (guestBases[mid] <= page) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return guests[lo];
    }

    /** New content of the class that no page has held before ({@link Content#unique}). */
    public int newUnique(int pageClass) {
        return Content.unique(pageClass, uniqueSerials[pageClass]++);
    }

    public boolean has(int page, int flag) {
        return (flags[page] & flag) != 0;
    }

    /**
     * The guest writes {@code newContent} into the page: a page merged with a KSM page or the zero
     * page gets a private copy first (copy on write); an absent page is faulted in.
     */
    public void write(Guest g, int page, int newContent) {
        store(g, page, newContent);
        if (settled != null) {
            settled.written(g, page);
        }
    }

    /**
     * {@link #write} for the boot, which writes the guest's pages in address order: the skipping engine
     * is told of them afterwards, by the block ({@link #booted}), not page by page.
     */
    public void bootWrite(Guest g, int page, int newContent) {
        store(g, page, newContent);
    }

    /** The boot wrote (with {@link #bootWrite}) the guest's present pages among offsets [from, to). */
    public void booted(Guest g, int from, int to) {
        if (settled != null) {
            settled.booted(g, from, to);
        }
    }

    private void store(Guest g, int page, int newContent) {
        int f = flags[page];
        if ((f & PageFlags.FREE) != 0 && page - g.base >= g.usedEnd) {
            boolean wasDirty = (f & PageFlags.PRESENT) != 0 && content[page] != Content.ZERO;
            g.scrubRegionDirtyPages += (newContent != Content.ZERO ? 1 : 0) - (wasDirty ? 1 : 0);
        }
        if ((f & PageFlags.PRESENT) == 0) {
            if (age[page] == AGE_REPORTED) {
                g.reportedPages--;
                age[page] = 0;
            }
            g.presentPages++;
            f |= PageFlags.PRESENT;
        } else {
            f = unmapShared(g, page, f);
        }
        if ((f & PageFlags.FREE) != 0 && Content.isSecret(content[page]) && (f & PageFlags.PRESENT) != 0) {
            g.staleSecretFreePages--;
        }
        content[page] = newContent;
        if ((f & PageFlags.FREE) != 0 && Content.isSecret(newContent)) {
            g.staleSecretFreePages++;
        }
        flags[page] = (byte) f;
    }

    /** The guest frees the page; its content stays (the hygiene mode decides what happens next). */
    public void free(Guest g, int page) {
        int f = flags[page];
        if ((f & PageFlags.FREE) != 0) {
            return;
        }
        flags[page] = (byte) (f | PageFlags.FREE);
        g.freePages++;
        if (page - g.base >= g.usedEnd) {
            g.scrubRegionFreePages++;
            if ((f & PageFlags.PRESENT) != 0 && content[page] != Content.ZERO) {
                g.scrubRegionDirtyPages++;
            }
        }
        if ((f & PageFlags.PRESENT) != 0 && Content.isSecret(content[page])) {
            g.staleSecretFreePages++;
        }
    }

    /** The guest's allocator hands the page out; the caller writes it next. */
    public void allocate(Guest g, int page) {
        int f = flags[page];
        if ((f & PageFlags.FREE) == 0) {
            return;
        }
        flags[page] = (byte) (f & ~PageFlags.FREE);
        g.freePages--;
        if (page - g.base >= g.usedEnd) {
            g.scrubRegionFreePages--;
            if ((f & PageFlags.PRESENT) != 0 && content[page] != Content.ZERO) {
                g.scrubRegionDirtyPages--;
            }
        }
        if ((f & PageFlags.PRESENT) != 0 && Content.isSecret(content[page])) {
            g.staleSecretFreePages--;
        }
    }

    /**
     * The host drops the page (free page reporting's discard, or the VM's exit): its memory goes back
     * to the host; a later guest access faults in a zero-filled page. The rmap item stays until ksmd
     * visits the address again, as in the kernel.
     */
    public void discard(Guest g, int page, boolean reported) {
        int f = flags[page];
        if ((f & PageFlags.PRESENT) == 0) {
            return;
        }
        if (settled != null) {
            settled.discarding(g, page);
            f = flags[page];
        }
        f = unmapShared(g, page, f);
        if ((f & PageFlags.FREE) != 0 && Content.isSecret(content[page])) {
            g.staleSecretFreePages--;
        }
        if ((f & PageFlags.FREE) != 0 && page - g.base >= g.usedEnd && content[page] != Content.ZERO) {
            g.scrubRegionDirtyPages--;
        }
        content[page] = Content.ZERO;
        flags[page] = (byte) (f & ~PageFlags.PRESENT);
        g.presentPages--;
        if (reported) {
            // An absent page's rmap item only waits for ksmd to drop it, so its age byte is free.
            age[page] = AGE_REPORTED;
            g.reportedPages++;
        }
    }

    /** Private page again: leaves the zero page or the KSM page (the rmap item is ksmd's business). */
    private int unmapShared(Guest g, int page, int f) {
        if ((f & PageFlags.ZERO_MERGED) != 0) {
            ksmZeroPages--;
            g.zeroMergedPages--;
            f &= ~PageFlags.ZERO_MERGED;
        }
        if ((f & PageFlags.STABLE) != 0 && (f & PageFlags.BROKEN) == 0) {
            stable.breakMapping(slot[page], g.index);
            g.liveMergedPages--;
            f |= PageFlags.BROKEN;
        }
        return f;
    }

    /**
     * Guest writes drawn first and applied afterwards, each kind in its order. The random draws of one write no
     * longer stand between the cache misses of the next: a tight loop of writes to random pages keeps
     * several misses in flight, about 3 times faster over hundreds of MiB of page arrays than drawing and
     * writing one at a time (docs/PERFORMANCE.md, "Simulator"). Applying them first reads, for all of
     * them, what the writes will read (the page's content, flags and rmap slot, then the stable node of a
     * page mapped to a KSM page): those loads do not depend on each other, so their cache misses
     * overlap instead of coming one after another. Anon writes ({@link #writeAnon}) read nothing and
     * land in the guests' anon regions, which no other write of the batch touches, so they are kept
     * apart and applied after the others, in their own order: the same pages end with the same state,
     * without a branch per write on its kind (faster in each of six pairs of sweeps; docs/PERFORMANCE.md,
     * "Twentieth session").
     */
    public final class Writes {
        /** Where the early reads go, so that the JIT keeps them. */
        private long touchSink;

        private Guest[] guestOf = new Guest[256];
        private int[] pages = new int[256];
        private int[] contents = new int[256];
        private int count;

        private Guest[] anonGuestOf = new Guest[256];
        private int[] anonPages = new int[256];
        private int anonCount;

        public void add(Guest g, int page, int contentId) {
            if (count == pages.length) {
                guestOf = Arrays.copyOf(guestOf, count * 2);
                pages = Arrays.copyOf(pages, count * 2);
                contents = Arrays.copyOf(contents, count * 2);
            }
            guestOf[count] = g;
            pages[count] = page;
            contents[count++] = contentId;
        }

        /** A write of {@link #writeAnon}'s kind: new unique content into the guest's booted anon memory. */
        public void addAnon(Guest g, int page) {
            if (anonCount == anonPages.length) {
                anonGuestOf = Arrays.copyOf(anonGuestOf, anonCount * 2);
                anonPages = Arrays.copyOf(anonPages, anonCount * 2);
            }
            anonGuestOf[anonCount] = g;
            anonPages[anonCount++] = page;
        }

        public void apply() {
            long sink = 0;
            for (int i = 0; i < count; i++) {
                int p = pages[i];
                sink += content[p] + flags[p] + slot[p];
            }
            for (int i = 0; i < count; i++) {
                int p = pages[i];
                if ((flags[p] & PageFlags.STABLE) != 0) {
                    sink += stable.peek(slot[p]);
                }
            }
            touchSink = sink;
            for (int i = 0; i < count; i++) {
                write(guestOf[i], pages[i], contents[i]);
            }
            count = 0;
            for (int i = 0; i < anonCount; i++) {
                writeAnon(anonGuestOf[i], anonPages[i]);
            }
            anonCount = 0;
        }
    }

    /**
     * {@link #write} for a page of the guest's anon region after it booted, with new unique content: such
     * a page is present, not free and holds unique content, so it never maps a KSM page or the zero page
     * and there is no copy on write; only its content changes. With the skipping engine the content is
     * not even stored: the engine notes the write and stores the new unique content when a visit records
     * its checksum, or before the page leaves its class ({@link SettledPages#writtenAnon}). Unique content
     * is only ever compared with the page's own checksum, so which serial it gets does not matter; a
     * random store into hundreds of MiB of content ids cost about as much as the rest of the write
     * (docs/PERFORMANCE.md, "Tenth session").
     */
    public void writeAnon(Guest g, int page) {
        if (settled != null) {
            settled.writtenAnon(g, page);
        } else {
            content[page] = newUnique(Content.ANON);
        }
    }
}
