package org.memhygiene.core.host;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * One completed pass over a VM's guest RAM, as its QEMU process maps it: how many pages are in each
 * state, how that was measured, and when. docs/RECLAIM.md defines every state in the kernel's terms.
 *
 * @param method         how the pass measured
 * @param reason         why the method is a fallback, or what part of the primary method was missing
 *                       (e.g. kpagecount unreadable); empty when nothing was
 * @param pid            the QEMU process
 * @param pageSizeBytes  the system's base page size, the unit of every count
 * @param guestRamPages  pages of the mappings found to back guest RAM; when none was found, the
 *                       domain's memory in pages
 * @param pages          the page counts
 * @param processRssPages the QEMU process's VmRSS at the end of the pass (guest RAM and QEMU's own memory)
 * @param passStartedAt  when the pass read its first page
 * @param measuredAt     when it read its last page
 * @param workMillis     time spent reading and classifying, summed over the samples the pass took
 */
public record GuestMemory(
        Method method,
        Optional<String> reason,
        int pid,
        long pageSizeBytes,
        long guestRamPages,
        Pages pages,
        OptionalLong processRssPages,
        Instant passStartedAt,
        Instant measuredAt,
        long workMillis) {

    /** How a pass measured. */
    public enum Method {
        /** Every page's pagemap entry, with /proc/kpageflags (and /proc/kpagecount) for its frame. */
        PAGEMAP("pagemap+kpageflags"),
        /**
         * PAGEMAP_SCAN (Linux 6.7+) for every page's state, and for the present small pages of private
         * mappings (where KSM pages can be) their pagemap entries with /proc/kpageflags and /proc/kpagecount,
         * as {@link #PAGEMAP}: the same counts, at a fraction of the cost where pages are zero, huge or absent.
         */
        PAGEMAP_SCAN_KPAGEFLAGS("pagemap_scan+kpageflags"),
        /**
         * PAGEMAP_SCAN (Linux 6.7+) for every page's state, without page frames (no CAP_SYS_ADMIN): KSM pages
         * are not told apart from private ones, so {@code ksm} is the process's ksm_merging_pages
         * (/proc/PID/ksm_stat) and {@code ksmSaved} is absent.
         */
        PAGEMAP_SCAN("pagemap_scan"),
        /** The process's /proc/PID/smaps_rollup and /proc/PID/ksm_stat: totals, no page states. */
        SMAPS_ROLLUP("smaps_rollup"),
        /** The simulator's page model, which knows every page's state (a simulated host). */
        SIMULATOR("simulator (model)"),
        /** Nothing could be read (the process exited, or even smaps_rollup was refused). */
        NONE("none");

        private final String label;

        Method(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** Whether the states partition guest RAM page by page (every method but the fallbacks). */
        public boolean pageStates() {
            return this != SMAPS_ROLLUP && this != NONE;
        }
    }

    /**
     * Pages of guest RAM by state. With a method that has {@link Method#pageStates()} the states resident,
     * ksm, zero, hugeZero, swapped and notPresent partition {@code guestRamPages}; a count the method cannot
     * measure is absent.
     *
     * @param resident      present and not shared through KSM or the zero pages: what the guest holds
     *                      privately (with smaps_rollup: absent; its Rss covers QEMU's own memory too)
     * @param thp           of {@code resident}, in transparent huge pages (kpageflags THP); with
     *                      smaps_rollup the process's AnonHugePages
     * @param hugetlb       of {@code resident}, in HugeTLB pages (hugetlbfs backing)
     * @param ksm           mapped to a KSM page that another mapping shares (kpageflags KSM, and pagemap
     *                      not exclusive); with pagemap_scan and smaps_rollup the process's ksm_merging_pages
     * @param ksmSaved      what sharing saves, split fairly: each KSM-mapped page adds 1 − 1/n, n its
     *                      frame's mapcount (kpagecount); summed over all processes this is pages_sharing.
     *                      Absent when kpagecount cannot be read
     * @param zero          mapped to the shared zero page (4 KiB zero page): merged by KSM with
     *                      use_zero_pages=1, or remapped when a THP was split (6.12+); with smaps_rollup
     *                      ksm_zero_pages, which counts only KSM's
     * @param zeroNeverBacked of {@code zero}, pages that no earlier pass saw backed once a whole pass had
     *                      looked (never touched, or on the huge zero page, until a write filled them and
     *                      KSM merged them with the zero page between two passes): they never cost the host
     *                      and are not reclaimed. 0 on the first pass, which cannot know
     * @param hugeZero      mapped to the huge zero page (a read of never-written THP-eligible memory)
     * @param swapped       in swap (VmSwap's pages of guest RAM)
     * @param notPresent    not backed at all: never touched, or given back
     * @param givenBack     of {@code notPresent}, pages an earlier pass of this QEMU process saw backed:
     *                      given back by the guest (balloon, free page reporting) or by QEMU
     */
    public record Pages(
            OptionalLong resident,
            OptionalLong thp,
            OptionalLong hugetlb,
            OptionalLong ksm,
            OptionalLong ksmSaved,
            OptionalLong zero,
            OptionalLong zeroNeverBacked,
            OptionalLong hugeZero,
            OptionalLong swapped,
            OptionalLong notPresent,
            OptionalLong givenBack) {

        /**
         * Of {@code zero}, the pages that count as reclaimed: all but {@code zeroNeverBacked}. The ZERO of
         * RECLAIMED = ZERO + GIVEN BACK wherever the breakdown is shown. Empty when zero is not measured.
         */
        public OptionalLong zeroReclaimed() {
            return zero.isPresent()
                    ? OptionalLong.of(zero.getAsLong() - zeroNeverBacked.orElse(0))
                    : OptionalLong.empty();
        }
    }

    /** "pagemap+kpageflags", or e.g. "smaps_rollup (fallback: process 42 exited during the pass)". */
    public String methodDescription() {
        return reason.map(r -> method.label() + " (" + (method.pageStates() ? "" : "fallback: ") + r + ")")
                .orElse(method.label());
    }

    /**
     * Guest RAM the host got back: pages that left the QEMU process's RSS. With page states, the pages mapped
     * to the 4 KiB zero page that a pass saw backed before (or whose past is unknown) plus the pages given back; with smaps_rollup, ksm_zero_pages alone (a lower
     * bound: zero pages of split THPs are not in it). Pages merged with other pages through KSM are not
     * in it: RSS counts a KSM page in every process that maps it (see {@link Pages#ksmSaved}).
     * docs/RECLAIM.md explains why this equals the drop of QEMU's RSS.
     */
    public OptionalLong reclaimedPages() {
        return switch (method) {
            case PAGEMAP, PAGEMAP_SCAN_KPAGEFLAGS, PAGEMAP_SCAN, SIMULATOR ->
                OptionalLong.of(
                        pages.zeroReclaimed().orElse(0) + pages.givenBack().orElse(0));
            case SMAPS_ROLLUP -> pages.zero();
            case NONE -> OptionalLong.empty();
        };
    }

    /** How old the figure is at {@code now}: since the pass read its last page. */
    public long ageMillis(Instant now) {
        return Math.max(0, Duration.between(measuredAt, now).toMillis());
    }

    public OptionalLong reclaimedBytes() {
        return inBytes(reclaimedPages());
    }

    /** A state's pages in bytes, e.g. {@code bytes(Pages::zero)}; empty when the method does not measure it. */
    public OptionalLong bytes(Function<Pages, OptionalLong> state) {
        return inBytes(state.apply(pages));
    }

    /** A count of pages of this measurement in bytes; empty stays empty. */
    public OptionalLong inBytes(OptionalLong pageCount) {
        return pageCount.isPresent() ? OptionalLong.of(pageCount.getAsLong() * pageSizeBytes) : OptionalLong.empty();
    }

    /** Guest RAM pages the QEMU process's RSS counts: resident + KSM-mapped (present with page states only). */
    public OptionalLong rssPages() {
        return method.pageStates()
                ? OptionalLong.of(pages.resident().orElse(0) + pages.ksm().orElse(0))
                : OptionalLong.empty();
    }
}
