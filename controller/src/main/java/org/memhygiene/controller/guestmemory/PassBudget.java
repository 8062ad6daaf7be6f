package org.memhygiene.controller.guestmemory;

import java.time.Duration;

/**
 * How much work the guest-memory passes may do per sample, all VMs together: at most
 * {@code pagesPerSample} pages walked and {@code maxPerSample} of time; and how soon a VM whose figure
 * nothing asked to refresh is measured again ({@code minRefresh}: on a small host the passes would
 * otherwise go round and round for figures that did not change). docs/PERFORMANCE.md ("Guest memory: the
 * pagemap pass") measures what a page costs and why the default is what it is.
 */
public record PassBudget(long pagesPerSample, Duration maxPerSample, Duration minRefresh) {
    /** 32 Mi pages (128 GiB of 4 KiB pages) per sample would be a whole host's RAM at once: refused. */
    public static final long MAX_PAGES_PER_SAMPLE = 32L * 1024 * 1024;
    /**
     * 2 ms a sample: 0.2 % of one core at one sample a second. Time is what binds: with PAGEMAP_SCAN a
     * page costs 0.2 ns (huge pages) to 10–20 ns (small pages), with pagemap+kpageflags 10–80 ns; the 1 Mi
     * pages (a 4 GiB VM of 4 KiB pages) only bound a sample where pages are nearly free. A figure nothing
     * asked to refresh is measured again after 10 s at the soonest, the history's resolution.
     */
    public static final PassBudget DEFAULT = new PassBudget(1024 * 1024, Duration.ofMillis(2), Duration.ofSeconds(10));

    public PassBudget {
        if (pagesPerSample <= 0 || pagesPerSample > MAX_PAGES_PER_SAMPLE) {
            throw new IllegalArgumentException(
                    "pages per sample must be in [1, " + MAX_PAGES_PER_SAMPLE + "], got " + pagesPerSample);
        }
        if (maxPerSample.isNegative() || maxPerSample.isZero()) {
            throw new IllegalArgumentException("the time per sample must be positive, got " + maxPerSample);
        }
        if (minRefresh.isNegative()) {
            throw new IllegalArgumentException("the time between two passes must not be negative, got " + minRefresh);
        }
    }

    /** A budget that measures again as soon as it can. */
    public PassBudget(long pagesPerSample, Duration maxPerSample) {
        this(pagesPerSample, maxPerSample, Duration.ZERO);
    }

    /** A whole pass of any VM in one sample: for a command that prints one figure and exits. */
    public static PassBudget wholePass() {
        return new PassBudget(MAX_PAGES_PER_SAMPLE, Duration.ofSeconds(30));
    }
}
