package org.memhygiene.simulator.ksm;

import java.util.Arrays;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;

/**
 * The pages whose next visits by ksmd have an outcome already determined, so the skipping engine
 * ({@link ScanEngine#SKIP_SETTLED}) passes them by the block instead of one by one, with counters
 * identical to the page-by-page engine's. After ksmd's real visit, almost every page is in one of
 * six classes until the guest or the host touches it:
 *
 * <ul>
 *   <li><b>mapped</b>: still mapped to its KSM page. A visit scans it and changes nothing
 *       ({@code cmp_and_merge_page} returns at once; {@code should_skip_rmap_item} never skips a KSM page).</li>
 *   <li><b>none</b>: absent or mapped to the zero page, without an rmap item. A visit passes it over.
 *       Every page starts here: before its guest boots it is absent and ksmd has not met it.</li>
 *   <li><b>fresh</b>: a page of none the guest wrote since, so present without an rmap item. Its first
 *       visit is always the same: a new rmap item, its checksum recorded (volatile, no tree search);
 *       the pass does it and files the page as cycling. Marked by the mapped and none bits both set,
 *       which no other page has: it counts as scanned, as a mapped page does.</li>
 *   <li><b>dropping</b>: mapped to the zero page by use_zero_pages (the pass does that merge too), or
 *       discarded by the host, with an rmap item that is not on a stable node. Its next visit frees the
 *       item (get_next_rmap_item passes over no anon page; out of the unstable tree first) and files it
 *       in none; not scanned. Marked by the none and cycling bits both set.</li>
 *   <li><b>broken</b>: a mapped page the guest wrote since (a copy on write), its rmap item still on
 *       the stable node. Its next visit takes the item off the node (remove_rmap_item_from_tree, in
 *       address order with the searches below), is a smart_scan skip or not by the age the page had
 *       when it merged, and records the new checksum unless skipped; the pass does it and files the
 *       page as cycling. Marked by the mapped and cycling bits both set. Only a page written back to
 *       its KSM page's content stops the pass: that visit searches the trees, for real.</li>
 *   <li><b>cycling</b>: present, with an rmap item, not in the stable tree. Whether a visit skips it
 *       (smart_scan) depends only on its rmap item's age and remaining skips, not on its content, so the
 *       scan in which it is next visited is known: it sits in a calendar of {@value #PERIOD} masks by
 *       that scan (a skip is at most 8 scans long). A visit of a page whose content is unique and
 *       unchanged since the last visit (the checksum gate passes, no other page can match) only puts
 *       it back in the unstable tree; a visit of a page written since only records its new checksum
 *       (the pass reads its content and rmap slot); a visit of a page with shareable content unchanged
 *       (mask {@code work}: content other pages may hold) searches both trees, which the pass does
 *       through ksmd, in address order ({@link Ksmd#searchAndFile}). A page whose search finds a KSM
 *       page merges into it there, and is mapped from then on; the pass stops at the first page whose
 *       search finds a twin in the unstable tree: that visit, which makes a new KSM page of the two, is
 *       done for real.</li>
 * </ul>
 *
 * Per block of 64 pages of one guest, 16 longs: the three class masks (fresh: mapped and none;
 * broken: mapped and cycling; dropping: none and cycling),
 * {@code inTree} (cycling pages in the unstable tree now, counted in pages_unshared), {@code work},
 * {@code young} (cycling pages
 * whose rmap item is not yet at the steady age 15 with 8 skips to go after a visit) and the calendar.
 * A cycling page's flags (UNSTABLE and its parity) and age byte are brought up to date lazily
 * ({@link #materialize}) when it leaves the class; its age byte holds its state after the last pass
 * processed page by page. Guest writes and host discards tell this index through {@link HostModel}.
 */
public final class SettledPages {
    /** Pages per block, as a shift. */
    private static final int SHIFT = 6;

    private static final int MAPPED = 0;
    private static final int NONE = 1;
    private static final int CYCLING = 2;
    private static final int IN_TREE = 3;
    private static final int WORK = 4;
    private static final int YOUNG = 5;
    private static final int CALENDAR = 6;
    /** Calendar length: a cycling page is next visited 1 to 9 scans after its last pass. */
    static final int PERIOD = 10;

    private static final int STRIDE = 16;
    /** The age byte after a visit at the steady age: age 15 (saturated), 8 skips to go (skip_age). */
    static final int STEADY = 8 << 4 | 15;

    private final HostModel model;
    private final Ksmd ksmd;
    private final long[] blocks;
    /**
     * Per block, two words in one cache line: the pages written since the block was last folded
     * ({@link #fold}), and the anon pages whose new content is not stored yet ({@link #writtenAnon}),
     * as far as their notes have been applied ({@link #applyNotes}).
     */
    private final long[] written;

    private final int[] firstBlock;

    /** Blocks per region of deferred write notes, as a shift: 4,096 blocks, whose bits take 64 KiB. */
    private static final int REGION_SHIFT = 12;
    /** A region's notes are applied at the latest when it holds this many. */
    private static final int MAX_NOTES = 8192;
    /**
     * Per region of blocks, the guests' writes not yet noted in {@link #written}, in order: the block
     * times 64 plus the page's bit, negative for an anon write ({@link #writtenAnon}). Applied when a
     * block of the region is folded, or when the region holds {@link #MAX_NOTES}.
     */
    private final int[][] notes;

    private final int[] noteCount;

    /** Pages one {@link #touchAhead} gathers: it stops at the block that brings it to this many, or the guest's end. */
    private static final int AHEAD_PAGES = 64;
    /** The most blocks one {@link #touchAhead} looks over. */
    private static final int AHEAD_BLOCKS = 256;

    private final int[] ahead = new int[AHEAD_PAGES + 64];
    private final int[] aheadNode = new int[AHEAD_PAGES + 64];
    /** The blocks [touchedFrom, touchedUntil) of scan {@code touchedScan} whose pages were touched. */
    private int touchedFrom;

    private int touchedUntil;
    private long touchedScan = -1;
    /** Where the touches' loads go, so that the JIT keeps them. */
    private long touchSink;

    /** smart_scan as it was when the cycling pages were filed: their schedules follow it. */
    boolean smart;

    /** What the last {@link #pass} did, for ksmd's counters. */
    long passedScanned;

    long passedSkipped;
    long passedUnsharedDelta;
    /** Rmap items the last pass made (fresh pages' first visits) less those it freed (dropping pages'). */
    long passedRmapItemsDelta;

    SettledPages(HostModel model, Ksmd ksmd, boolean smart) {
        this.model = model;
        this.ksmd = ksmd;
        this.smart = smart;
        firstBlock = new int[model.guests.length];
        long total = 0;
        for (Guest g : model.guests) {
            firstBlock[g.index] = (int) total;
            total += (g.pages + 63) >>> SHIFT;
        }
        if (total >= 1 << 25) {
            throw new IllegalArgumentException(
                    "a host of " + total + " blocks of 64 pages: at most " + ((1 << 25) - 1));
        }
        blocks = new long[Math.toIntExact(total * STRIDE)];
        written = new long[Math.toIntExact(2 * total)];
        int regions = (int) ((total + (1 << REGION_SHIFT) - 1) >>> REGION_SHIFT);
        notes = new int[regions][16];
        noteCount = new int[regions];
        for (Guest g : model.guests) {
            for (int o = 0; o < g.pages; o += 64) {
                int inBlock = Math.min(64, g.pages - o);
                blocks[blockIndex(g, o) + NONE] = inBlock == 64 ? -1L : (1L << inBlock) - 1;
            }
        }
    }

    /**
     * Heap bytes per page of this index: 16 longs per 64 pages, the two words of written bits, and at
     * most {@link #MAX_NOTES} notes of 4 bytes per 4,096 blocks.
     */
    public static final double BYTES_PER_PAGE =
            (STRIDE + 2) * Long.BYTES / 64.0 + MAX_NOTES * Integer.BYTES / (64.0 * (1 << REGION_SHIFT));

    private int blockIndex(Guest g, int offset) {
        return (firstBlock[g.index] + (offset >>> SHIFT)) * STRIDE;
    }

    /**
     * The guest wrote the page ({@link HostModel#write}): noted, and the note applied to the block's
     * masks ({@link #fold}) before anything reads them: a copy on write of a KSM page or the zero page,
     * or a fault on an absent page, takes the page out of its class; a cycling page's skips do not read
     * the content, its next visit does (real work). A note goes first into a list per region of blocks,
     * applied when a block of the region is folded: the scan applies a region's notes all at once when it
     * gets there, into 64 KiB of bits that stay in the CPU's cache, where a note set at the write would
     * miss it at random over the whole host's bits.
     */
    public void written(Guest g, int page) {
        note(g, page, false);
    }

    /**
     * The guest wrote new unique content into a page of its anon region ({@link HostModel#writeAnon}),
     * which holds unique content all along: noted as {@link #written} is, and the page marked unstored.
     * Its content id stays until a visit that compares it: the pass's visit stores a new serial as both
     * content and checksum without reading either; a page taken out of its class gets one first
     * ({@link #storeAnon}), so that real visits and the host see the content as the page-by-page engine
     * has it, up to its serial. Unique content can only ever match the page's own checksum, so which
     * serial it gets does not matter (docs/SIMULATOR.md, "Scan engines").
     */
    public void writtenAnon(Guest g, int page) {
        note(g, page, true);
    }

    /**
     * The boot wrote the guest's present pages among offsets [from, to) ({@link HostModel#bootWrite}):
     * noted as {@link #written} notes each, by the block, after the region's notes from before (the boot
     * writes come after them; a page absent now, discarded since, is left as it is).
     */
    public void booted(Guest g, int from, int to) {
        byte[] flags = model.flags;
        for (int o = from; o < to; o = (o & -64) + 64) {
            int block = firstBlock[g.index] + (o >>> SHIFT);
            if (noteCount[block >>> REGION_SHIFT] != 0) {
                applyNotes(block >>> REGION_SHIFT);
            }
            long bits = 0;
            for (int k = o, end = Math.min((o & -64) + 64, to); k < end; k++) {
                bits |= (long) ((flags[g.base + k] & PageFlags.PRESENT) != 0 ? 1 : 0) << k;
            }
            written[2 * block] |= bits;
            written[2 * block + 1] &= ~bits;
        }
    }

    private void note(Guest g, int page, boolean anon) {
        int offset = page - g.base;
        int block = firstBlock[g.index] + (offset >>> SHIFT);
        int region = block >>> REGION_SHIFT;
        int n = noteCount[region];
        if (n == notes[region].length) {
            if (n == MAX_NOTES) {
                applyNotes(region);
                n = 0;
            } else {
                notes[region] = Arrays.copyOf(notes[region], 2 * n);
            }
        }
        int entry = block << SHIFT | offset & 63;
        notes[region][n] = anon ? ~entry : entry;
        noteCount[region] = n + 1;
    }

    /**
     * Sets the region's noted writes in {@link #written} in order: per block, the pages written since it
     * was last folded, and the anon pages whose new content is not stored yet (a later write of other
     * content stores it: no longer unstored).
     */
    private void applyNotes(int region) {
        int[] list = notes[region];
        for (int k = 0, n = noteCount[region]; k < n; k++) {
            int entry = list[k];
            boolean anon = entry < 0;
            int e = anon ? ~entry : entry;
            int w = 2 * (e >>> SHIFT);
            long bit = 1L << e;
            written[w] |= bit;
            written[w + 1] = anon ? written[w + 1] | bit : written[w + 1] & ~bit;
        }
        noteCount[region] = 0;
    }

    /** Gives the block's unstored anon pages among {@code pages} their new content (a new serial). */
    private void storeAnon(Guest g, int i, long pages) {
        int w = 2 * (i / STRIDE) + 1;
        long unstored = written[w] & pages;
        if (unstored != 0) {
            written[w] &= ~unstored;
            int blockBase = g.base + ((i / STRIDE - firstBlock[g.index]) << SHIFT);
            for (long a = unstored; a != 0; a &= a - 1) {
                model.content[blockBase + Long.numberOfTrailingZeros(a)] = model.newUnique(Content.ANON);
            }
        }
    }

    /** Applies the block's pending writes to its masks; {@code i} is the block's index into {@link #blocks}. */
    private void fold(Guest g, int i) {
        int block = i / STRIDE;
        if (noteCount[block >>> REGION_SHIFT] != 0) {
            applyNotes(block >>> REGION_SHIFT);
        }
        long w = written[2 * block];
        if (w != 0) {
            written[2 * block] = 0;
            long none = blocks[i + NONE];
            long mapped = blocks[i + MAPPED];
            long cycling = blocks[i + CYCLING];
            // A written page of none is present now, still without an rmap item: fresh. A written mapped
            // page got a private copy: broken. A written cycling page: its next visit has work. A written
            // dropping page is present with its rmap item again: out of its class.
            long dropping = w & none & cycling;
            blocks[i + MAPPED] = mapped | w & none & ~cycling;
            blocks[i + NONE] = none & ~dropping;
            blocks[i + CYCLING] = (cycling | w & mapped & ~none) & ~dropping;
            blocks[i + WORK] |= w & cycling & ~mapped & ~none;
        }
    }

    /**
     * The host is about to discard the page ({@link HostModel#discard}): it leaves its class, its flags
     * and age brought up to date, and is filed as what it is once absent (none or dropping).
     */
    public void discarding(Guest g, int page) {
        int offset = page - g.base;
        int i = blockIndex(g, offset);
        fold(g, i);
        long bit = 1L << offset;
        written[2 * (i / STRIDE) + 1] &= ~bit; // the zero page from now on
        if ((blocks[i + CYCLING] & ~blocks[i + MAPPED] & ~blocks[i + NONE] & bit) != 0) {
            materialize(g, offset, i, bit, ksmd.lastPass(g, offset));
        }
        blocks[i + MAPPED] &= ~bit;
        blocks[i + NONE] &= ~bit;
        blocks[i + CYCLING] &= ~bit; // a broken page's
        // Absent from now on: without an rmap item it is in none; with one off the stable tree it is
        // dropping; one on a stable node leaves it for a real visit.
        int f = model.flags[page];
        if ((f & PageFlags.RMAP) == 0) {
            blocks[i + NONE] |= bit;
        } else if ((f & PageFlags.STABLE) == 0) {
            blocks[i + NONE] |= bit;
            blocks[i + CYCLING] |= bit;
        }
    }

    /**
     * Takes the page out of its class, its flags and age brought up to date as of {@code lastPass},
     * the scan of its last pass.
     */
    void evict(Guest g, int offset, long lastPass) {
        int i = blockIndex(g, offset);
        fold(g, i);
        long bit = 1L << offset;
        storeAnon(g, i, bit);
        if ((blocks[i + CYCLING] & ~blocks[i + MAPPED] & ~blocks[i + NONE] & bit) != 0) {
            materialize(g, offset, i, bit, lastPass);
        }
        blocks[i + MAPPED] &= ~bit;
        blocks[i + NONE] &= ~bit;
        blocks[i + CYCLING] &= ~bit; // a broken page's
    }

    /**
     * Passes settled pages of {@code g} from {@code from} on, in address order, until a page that needs
     * a real visit, the guest's end, or the {@code budget}-th page that counts as scanned; applies their
     * visits (in scan {@code scan}, with smart_scan and use_zero_pages as given) to the masks and to
     * {@link #passedScanned}, {@link #passedSkipped}, {@link #passedUnsharedDelta} and
     * {@link #passedRmapItemsDelta}. Returns the offset of the first page not passed.
     */
    int pass(Guest g, int from, long budget, long scan, boolean smart, boolean useZero) {
        passedScanned = 0;
        passedSkipped = 0;
        passedUnsharedDelta = 0;
        passedRmapItemsDelta = 0;
        int due = CALENDAR + (int) (scan % PERIOD);
        int afterVisit = CALENDAR + (int) ((scan + 9) % PERIOD);
        int o = from;
        while (o < g.pages && budget > 0) {
            int blockStart = o & -64;
            int inBlock = Math.min(64, g.pages - blockStart);
            int i = blockIndex(g, o);
            int block = i / STRIDE;
            if (block >= touchedUntil || block < touchedFrom || scan != touchedScan) {
                touchAhead(g, block, scan, smart ? due : -1);
            }
            fold(g, i);
            long range = (inBlock == 64 ? -1L : (1L << inBlock) - 1) & (-1L << o);
            long broken = blocks[i + MAPPED] & blocks[i + CYCLING];
            long mapped = blocks[i + MAPPED] & ~broken;
            long dropping = blocks[i + NONE] & blocks[i + CYCLING];
            long cycling = blocks[i + CYCLING] & ~broken & ~dropping;
            long work = blocks[i + WORK];
            long dueNow = smart ? blocks[i + due] & cycling : cycling;
            long stop = range & ~(mapped | blocks[i + NONE] | cycling | broken);
            if (stop != 0) {
                range &= Long.lowestOneBit(stop) - 1;
            }
            broken &= range;
            // A broken page's visit is a smart_scan skip when its age says so, else it is scanned.
            long brokenSkipped = smart ? skippedBroken(g, blockStart, broken) : 0;
            // Every due page counts as scanned, whatever its visit does.
            long scanned = (mapped | dueNow | broken & ~brokenSkipped) & range;
            int count = Long.bitCount(scanned);
            if (count >= budget) {
                // ksm_do_scan stops right after the page that uses up pages_to_scan.
                long last = scanned;
                for (long k = budget - 1; k > 0; k--) {
                    last &= last - 1;
                }
                last = Long.lowestOneBit(last);
                range &= last | (last - 1);
                count = (int) budget;
            }
            broken &= range;
            brokenSkipped &= range;
            long dueWork = dueNow & work & range;
            long unstored = written[2 * (i / STRIDE) + 1];
            // In address order: a broken page leaves the stable node (leaveStable); a due page written
            // since its last visit only records the new checksum (cmp_and_merge_page's volatile return),
            // no tree is searched; a due page with shareable content unchanged searches both trees
            // (through ksmd), merges into the KSM page found, or is filed in the unstable tree when both
            // searches fail. The first whose search finds a twin in the unstable tree ends the pass
            // there, for its real visit: the pages after it are not looked at. An unstored anon page's
            // visit only records its new checksum, which touches no tree: done below, by the mask.
            long changed = 0;
            long filed = 0;
            int numaKey = -1;
            for (long c = dueWork & ~unstored | broken; c != 0; c &= c - 1) {
                int p = g.base + blockStart + Long.numberOfTrailingZeros(c);
                long bit = Long.lowestOneBit(c);
                if ((broken & bit) != 0) {
                    if (!leaveStable(g, i, p, bit, (brokenSkipped & bit) != 0, scan, smart)) {
                        // Its content is its KSM page's again: the visit goes on to the searches, for real.
                        range &= bit - 1;
                        count = Long.bitCount((mapped | dueNow | broken & ~brokenSkipped) & range);
                        break;
                    }
                    continue;
                }
                int content = model.content[p];
                if (model.slot[p] != content) {
                    changed |= bit;
                    continue;
                }
                if (useZero && content == Content.ZERO) {
                    mergeIntoZeroPage(g, i, p, bit, smart, due);
                    continue;
                }
                if (numaKey < 0) {
                    numaKey = ksmd.numaKey(g);
                }
                if (!ksmd.searchAndFile(p, numaKey, (scan & 1) == 1 ? PageFlags.UNSTABLE_ODD : 0)) {
                    if (mergeIntoStable(g, i, p, bit, smart, due)) {
                        continue;
                    }
                    range &= bit - 1;
                    count = Long.bitCount((mapped | dueNow | broken & ~brokenSkipped) & range);
                    break;
                }
                filed |= bit;
            }
            long visited = dueNow & ~work & range | filed;
            if (range != 0) {
                long fresh = mapped & blocks[i + NONE] & range;
                if (fresh != 0) {
                    firstVisits(g, i, blockStart, fresh, scan, smart);
                }
                // An unstored page's visit stores its new content and records it as the checksum, without
                // reading either (writtenAnon); a fresh one's first visit reads and records it.
                long unstoredChanged = dueWork & unstored & range;
                written[2 * (i / STRIDE) + 1] = unstored & ~(fresh | unstoredChanged);
                blocks[i + WORK] &= ~unstoredChanged; // unique content
                for (long c = unstoredChanged; c != 0; c &= c - 1) {
                    int p = g.base + blockStart + Long.numberOfTrailingZeros(c);
                    int content = model.newUnique(Content.ANON);
                    model.content[p] = content;
                    model.slot[p] = content;
                }
                if ((dropping & range) != 0) {
                    dropRmapItems(g, i, blockStart, dropping & range);
                }
                long skipped = cycling & ~dueNow & range;
                long inTree = blocks[i + IN_TREE];
                passedSkipped += Long.bitCount(skipped) + Long.bitCount(brokenSkipped & range);
                passedUnsharedDelta += Long.bitCount(visited & ~inTree)
                        - Long.bitCount((skipped | changed | unstoredChanged) & inTree);
                blocks[i + IN_TREE] = (inTree & ~(skipped | changed | unstoredChanged)) | visited;
                for (long c = changed; c != 0; c &= c - 1) {
                    int p = g.base + blockStart + Long.numberOfTrailingZeros(c);
                    int content = model.content[p];
                    model.slot[p] = content;
                    if (Content.isUnique(content)) {
                        blocks[i + WORK] &= ~Long.lowestOneBit(c);
                    }
                }
                changed |= unstoredChanged;
                if (smart && (visited | changed) != 0) {
                    long young = (visited | changed) & blocks[i + YOUNG];
                    blocks[i + due] &= ~(visited | changed);
                    blocks[i + afterVisit] |= (visited | changed) & ~young;
                    if (young != 0) {
                        visitYoung(g, i, blockStart, young, scan);
                    }
                }
                passedScanned += count;
                budget -= count;
                o = blockStart + 64 - Long.numberOfLeadingZeros(range);
            }
            if (o < blockStart + inBlock) {
                break; // stopped inside the block: a page for real work, or the budget
            }
        }
        return o;
    }

    /**
     * Loads, ahead of the pass, what its visits of the next pages with work will read at random places:
     * the page arrays, the trees' index entry of a page that will search for its content, and the stable
     * node that search finds or a broken page leaves. One visit after another, each of those is a cache
     * miss that waits for the one before it; loaded here in tight loops of independent loads, dozens are
     * in flight at once (as {@link HostModel.Writes} does for the guests' writes). Only loads: what the
     * pass does is unchanged, a page missed here only costs its misses. {@code due} is the calendar's
     * slot of this scan, or -1 without smart_scan.
     */
    private void touchAhead(Guest g, int fromBlock, long scan, int due) {
        int end = Math.min(firstBlock[g.index] + ((g.pages + 63) >>> SHIFT), fromBlock + AHEAD_BLOCKS);
        int n = 0;
        int b = fromBlock;
        for (; b < end && n < AHEAD_PAGES; b++) {
            if (noteCount[b >>> REGION_SHIFT] != 0) {
                applyNotes(b >>> REGION_SHIFT);
            }
            int j = b * STRIDE;
            long mapped = blocks[j + MAPPED];
            long none = blocks[j + NONE];
            long cycling = blocks[j + CYCLING];
            long w = written[2 * b];
            // Due work (a written page has some once folded), and broken pages, now or once folded
            // (negative: they read their flags, age and stable node).
            long work = (due >= 0 ? blocks[j + due] : -1L)
                    & cycling
                    & ~mapped
                    & ~none
                    & (blocks[j + WORK] | w)
                    & ~written[2 * b + 1];
            long broken = mapped & ~none & (cycling | w);
            int base = g.base + ((b - firstBlock[g.index]) << SHIFT);
            for (long v = work | broken; v != 0; v &= v - 1) {
                int p = base + Long.numberOfTrailingZeros(v);
                ahead[n++] = (broken & v & -v) != 0 ? ~p : p;
            }
        }
        touchedFrom = fromBlock;
        touchedUntil = b;
        touchedScan = scan;
        int[] content = model.content;
        int[] slot = model.slot;
        byte[] flags = model.flags;
        byte[] age = model.age;
        long sink = 0;
        for (int k = 0; k < n; k++) {
            int p = ahead[k];
            if (p < 0) {
                sink += flags[~p] + age[~p] + slot[~p] + content[~p];
            } else {
                sink += slot[p] + content[p];
            }
        }
        int numaKey = ksmd.numaKey(g);
        for (int k = 0; k < n; k++) {
            int p = ahead[k];
            int node = -1;
            if (p < 0) {
                node = slot[~p];
            } else {
                int c = content[p];
                if (!Content.isUnique(c) && c == slot[p]) {
                    // A search. Its page's flags and age, which it sets, are not loaded here: a byte per
                    // page, the block's 64 share a cache line that the pass brings in anyway (with those
                    // loads a fast+zero sweep cell took 3.51-3.88 s, without 3.18-3.58 s, three pairs;
                    // docs/PERFORMANCE.md, "Twentieth session").
                    node = model.stable.indexed(c, numaKey);
                }
            }
            aheadNode[k] = node;
        }
        for (int k = 0; k < n; k++) {
            if (aheadNode[k] >= 0) {
                sink += model.stable.content(aheadNode[k]);
            }
        }
        touchSink = sink;
    }

    /**
     * Of the block's {@code broken} pages (mapped to a KSM page until the guest wrote them: a copy on
     * write, the rmap item still on the stable node), those whose visit now is a smart_scan skip, as
     * should_skip_rmap_item decides from the age the page had when it merged.
     */
    private long skippedBroken(Guest g, int blockStart, long broken) {
        long skipped = 0;
        for (long b = broken; b != 0; b &= b - 1) {
            int a = model.age[g.base + blockStart + Long.numberOfTrailingZeros(b)];
            if ((a & 0x0F) >= 3 && (a & 0xF0) != 0) {
                skipped |= Long.lowestOneBit(b);
            }
        }
        return skipped;
    }

    /**
     * A broken page's visit: its rmap item leaves the stable node (Ksmd.leaveStable, as
     * remove_rmap_item_from_tree), its age steps as should_skip_rmap_item steps it, and, unless the visit
     * is a skip, its new checksum is recorded (cmp_and_merge_page's volatile return); then it is filed as
     * cycling, as {@link #classify} would. False, with nothing done, when the visit is no skip and the
     * page holds its KSM page's content again: that visit goes on to search the trees, for real.
     */
    private boolean leaveStable(Guest g, int i, int p, long bit, boolean skip, long scan, boolean smart) {
        int c = model.content[p];
        if (!skip && model.stable.content(model.slot[p]) == c) {
            return false;
        }
        ksmd.leaveStable(g, p);
        if (!skip) {
            model.slot[p] = c;
        }
        blocks[i + MAPPED] &= ~bit;
        if (!Content.isUnique(c) || model.slot[p] != c) {
            blocks[i + WORK] |= bit;
        }
        if (smart) {
            int a = model.age[p];
            int age = a & 0x0F;
            int remaining = (a >>> 4) & 0x0F;
            int newAge = Math.min(15, age + 1);
            int stored = skip ? (remaining - 1) << 4 | newAge : (age < 3 ? remaining : Ksmd.skipAge(age)) << 4 | newAge;
            model.age[p] = (byte) stored;
            blocks[i + CALENDAR + (int) ((scan + (stored >>> 4) + 1) % PERIOD)] |= bit;
            if (stored != STEADY) {
                blocks[i + YOUNG] |= bit;
            }
        }
        return true;
    }

    /**
     * A due cycling page whose search found a KSM page: its visit merges it there (Ksmd.mergeIntoStable),
     * without the real visit: it leaves the unstable tree (pages_unshared) and the class, its age steps as
     * should_skip_rmap_item steps it (it leaves the calendar's slot {@code due}), and it is mapped to its
     * KSM page now. False when the search found
     * only a twin in the unstable tree: that visit is done for real.
     */
    private boolean mergeIntoStable(Guest g, int i, int p, long bit, boolean smart, int due) {
        if (!ksmd.mergeIntoStable(g, p)) {
            return false;
        }
        if ((blocks[i + IN_TREE] & bit) != 0) {
            passedUnsharedDelta--;
        }
        if (smart) {
            model.age[p] = (byte) ageAfterVisit(model.age[p]);
        }
        blocks[i + MAPPED] |= bit;
        blocks[i + CYCLING] &= ~bit;
        blocks[i + IN_TREE] &= ~bit;
        blocks[i + WORK] &= ~bit;
        blocks[i + YOUNG] &= ~bit;
        blocks[i + due] &= ~bit;
        return true;
    }

    /**
     * A due cycling page of zero content, unchanged since its last visit, with use_zero_pages: its visit
     * maps it to the zero page (cmp_and_merge_page's ksm_zero_pages branch, as Ksmd.cmpAndMerge does it):
     * it leaves the unstable tree (pages_unshared), its age steps as should_skip_rmap_item steps it, and
     * it is filed as dropping.
     */
    private void mergeIntoZeroPage(Guest g, int i, int p, long bit, boolean smart, int due) {
        if ((blocks[i + IN_TREE] & bit) != 0) {
            passedUnsharedDelta--;
        }
        if (smart) {
            model.age[p] = (byte) ageAfterVisit(model.age[p]);
        }
        model.flags[p] =
                (byte) ((model.flags[p] & ~(PageFlags.UNSTABLE | PageFlags.UNSTABLE_ODD)) | PageFlags.ZERO_MERGED);
        model.ksmZeroPages++;
        g.zeroMergedPages++;
        blocks[i + NONE] |= bit;
        blocks[i + IN_TREE] &= ~bit;
        blocks[i + WORK] &= ~bit;
        blocks[i + YOUNG] &= ~bit;
        blocks[i + due] &= ~bit;
    }

    /**
     * The visits of dropping pages: a zero-mapped or absent page is no anon page to ksmd, so
     * get_next_rmap_item frees the rmap item it passes over, out of the unstable tree first (as Ksmd.visit
     * does); not scanned, and in none from then on.
     */
    private void dropRmapItems(Guest g, int i, int blockStart, long dropping) {
        for (long d = dropping; d != 0; d &= d - 1) {
            int p = g.base + blockStart + Long.numberOfTrailingZeros(d);
            int f = model.flags[p];
            if ((f & PageFlags.UNSTABLE) != 0) {
                passedUnsharedDelta--;
            }
            model.flags[p] = (byte) (f & ~(PageFlags.RMAP | PageFlags.UNSTABLE | PageFlags.UNSTABLE_ODD));
        }
        int count = Long.bitCount(dropping);
        g.rmapItems -= count;
        passedRmapItemsDelta -= count;
        blocks[i + CYCLING] &= ~dropping;
    }

    /**
     * The first visits of fresh pages, as Ksmd.visit does them: a new rmap item (age 0, aged to 1 by
     * should_skip_rmap_item with smart_scan), the checksum recorded (cmp_and_merge_page's volatile
     * return: an item has no checksum before its first visit); then filed as cycling, as
     * {@link #classify} would, due again at the next scan.
     */
    private void firstVisits(Guest g, int i, int blockStart, long fresh, long scan, boolean smart) {
        for (long f = fresh; f != 0; f &= f - 1) {
            int p = g.base + blockStart + Long.numberOfTrailingZeros(f);
            model.flags[p] = (byte) (model.flags[p] | PageFlags.RMAP);
            int content = model.content[p];
            model.slot[p] = content;
            model.age[p] = (byte) (smart ? 1 : 0);
            if (!Content.isUnique(content)) {
                blocks[i + WORK] |= Long.lowestOneBit(f);
            }
        }
        int count = Long.bitCount(fresh);
        g.rmapItems += count;
        passedRmapItemsDelta += count;
        blocks[i + MAPPED] &= ~fresh;
        blocks[i + NONE] &= ~fresh;
        blocks[i + CYCLING] |= fresh;
        if (smart) {
            blocks[i + CALENDAR + (int) ((scan + 1) % PERIOD)] |= fresh;
            blocks[i + YOUNG] |= fresh;
        }
    }

    /**
     * The visits of the block's {@code young} cycling pages, done to their age bytes as
     * should_skip_rmap_item would: each age grows and the page is not skipped; from age 3 on, the next
     * skips are set by skip_age. Files each under the scan of its next visit. A table gives each byte's
     * successor ({@link #AFTER_VISIT}) and the calendar is written once per number of skips, not once a
     * page: a young visit is the commonest visit with a page of its own to change (81 million in the
     * day's second hour), and loading the age bytes ahead did not make it faster, so what it costs is
     * the work per page (docs/PERFORMANCE.md, "Seventeenth session").
     */
    private void visitYoung(Guest g, int i, int blockStart, long young, long scan) {
        byte[] age = model.age;
        int base = g.base + blockStart;
        long[] bySkips = nextVisitBySkips;
        long steady = 0;
        for (long y = young; y != 0; y &= y - 1) {
            int k = Long.numberOfTrailingZeros(y);
            int stored = AFTER_VISIT[age[base + k] & 0xFF] & 0xFF;
            age[base + k] = (byte) stored;
            bySkips[stored >>> 4] |= 1L << k;
            steady |= stored == STEADY ? 1L << k : 0;
        }
        for (int skips = 0; skips < bySkips.length; skips++) {
            if (bySkips[skips] != 0) {
                blocks[i + CALENDAR + (int) ((scan + skips + 1) % PERIOD)] |= bySkips[skips];
                bySkips[skips] = 0;
            }
        }
        blocks[i + YOUNG] &= ~steady;
    }

    /** {@link #ageAfterVisit} of every age byte. */
    private static final byte[] AFTER_VISIT = new byte[256];

    static {
        for (int a = 0; a < AFTER_VISIT.length; a++) {
            AFTER_VISIT[a] = (byte) ageAfterVisit(a);
        }
    }

    /** Per number of skips before the next visit (skip_age gives at most 8), the young pages just visited. */
    private final long[] nextVisitBySkips = new long[9];

    /**
     * The age byte of a due cycling page after its visit, from the byte its last pass left ({@code a}):
     * every skip since then aged it by one; the visit ages it once more and, from age 3 on, sets its
     * next skips by skip_age (should_skip_rmap_item).
     */
    private static int ageAfterVisit(int a) {
        int age = Math.min(15, (a & 0x0F) + ((a >>> 4) & 0x0F));
        int newAge = Math.min(15, age + 1);
        int remaining = age < 3 ? 0 : Ksmd.skipAge(age);
        return remaining << 4 | newAge;
    }

    /**
     * Files the page ksmd just visited for real (in scan {@code scan}) in its class, if it has one; a
     * page in none stays out and is visited for real again.
     */
    void classify(Guest g, int p, long scan, boolean smart) {
        int f = model.flags[p];
        int offset = p - g.base;
        int i = blockIndex(g, offset);
        fold(g, i);
        long bit = 1L << offset;
        if ((f & PageFlags.RMAP) == 0) {
            if ((f & PageFlags.PRESENT) == 0 || (f & PageFlags.ZERO_MERGED) != 0) {
                blocks[i + NONE] |= bit;
            }
            return;
        }
        if ((f & PageFlags.PRESENT) == 0) {
            return; // its rmap item goes at the next visit
        }
        if ((f & PageFlags.ZERO_MERGED) != 0) {
            blocks[i + NONE] |= bit; // zero-mapped: dropping
            blocks[i + CYCLING] |= bit;
            return;
        }
        if ((f & PageFlags.STABLE) != 0) {
            if ((f & PageFlags.BROKEN) == 0) {
                blocks[i + MAPPED] |= bit;
            }
            return;
        }
        blocks[i + CYCLING] |= bit;
        int c = model.content[p];
        if (!Content.isUnique(c) || model.slot[p] != c) {
            blocks[i + WORK] |= bit;
        }
        if ((f & PageFlags.UNSTABLE) != 0) {
            blocks[i + IN_TREE] |= bit;
        }
        if (smart) {
            int a = model.age[p];
            blocks[i + CALENDAR + (int) ((scan + ((a >>> 4) & 0x0F) + 1) % PERIOD)] |= bit;
            if ((a & 0xFF) != STEADY) {
                blocks[i + YOUNG] |= bit;
            }
        }
    }

    /**
     * Brings a cycling page's flags and age up to date as of {@code lastPass} (the scan of its last
     * pass) and takes it out of the class: its tree flag with that scan's parity (a page in the tree
     * was visited in its last pass: a skip takes it out), its age and remaining skips from the scan of
     * its next visit.
     */
    private void materialize(Guest g, int offset, int i, long bit, long lastPass) {
        int p = g.base + offset;
        if (smart) {
            int slot = 0;
            while ((blocks[i + CALENDAR + slot] & bit) == 0) {
                slot++;
            }
            long nextVisit = lastPass + 1 + Math.floorMod(slot - (lastPass + 1), PERIOD);
            int a = model.age[p];
            int remaining = (a >>> 4) & 0x0F;
            long storedPass = nextVisit - remaining - 1;
            int age = (int) Math.min(15, (a & 0x0F) + (lastPass - storedPass));
            model.age[p] = (byte) ((nextVisit - lastPass - 1) << 4 | age);
            blocks[i + CALENDAR + slot] &= ~bit;
        }
        int f = model.flags[p] & ~(PageFlags.UNSTABLE | PageFlags.UNSTABLE_ODD);
        if ((blocks[i + IN_TREE] & bit) != 0) {
            f |= PageFlags.UNSTABLE | ((lastPass & 1) == 1 ? PageFlags.UNSTABLE_ODD : 0);
        }
        model.flags[p] = (byte) f;
        blocks[i + CYCLING] &= ~bit;
        blocks[i + IN_TREE] &= ~bit;
        blocks[i + WORK] &= ~bit;
        blocks[i + YOUNG] &= ~bit;
    }

    /** Every page of the guest out of its class, flags and ages up to date (the guest leaves ksmd). */
    void evictGuest(Guest g) {
        for (int o = 0; o < g.pages; o += 64) {
            int i = blockIndex(g, o);
            fold(g, i);
            storeAnon(g, i, -1L);
            for (long c = blocks[i + CYCLING] & ~blocks[i + MAPPED] & ~blocks[i + NONE]; c != 0; c &= c - 1) {
                int offset = o + Long.numberOfTrailingZeros(c);
                materialize(g, offset, i, Long.lowestOneBit(c), ksmd.lastPass(g, offset));
            }
            Arrays.fill(blocks, i, i + STRIDE, 0);
        }
    }

    /** Every page out of its class (run=2, a smart_scan change): the page-by-page state, exactly. */
    void evictAll() {
        for (Guest g : model.guests) {
            evictGuest(g);
        }
    }
}
