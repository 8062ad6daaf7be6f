package org.memhygiene.controller.guestmemory;

import java.time.Duration;

/**
 * How much work the guest-memory passes may do per sample, all VMs together: at most
 * {@code pagesPerSample} pages classified and, as a guard against a slow kernel, {@code maxPerSample}
 * of time. docs/PERFORMANCE.md ("Guest memory: the pagemap pass") measures what a page costs and why the
 * default is what it is.
 */
public record PassBudget(long pagesPerSample, Duration maxPerSample) {
    /** 32 Mi pages (128 GiB of 4 KiB pages) per sample would be a whole host's RAM at once: refused. */
    public static final long MAX_PAGES_PER_SAMPLE = 32L * 1024 * 1024;
    /**
     * 0.2 % of one core at one sample a second: 2 ms, or 128 Ki pages (512 MiB of 4 KiB pages) where the
     * memory is cheap to read (huge pages: about 10 ns a page, against about 80 after KSM has split them).
     */
    public static final PassBudget DEFAULT = new PassBudget(131_072, Duration.ofMillis(2));

    public PassBudget {
        if (pagesPerSample <= 0 || pagesPerSample > MAX_PAGES_PER_SAMPLE) {
            throw new IllegalArgumentException("pages per sample must be in [1, " + MAX_PAGES_PER_SAMPLE + "], got " + pagesPerSample);
        }
        if (maxPerSample.isNegative() || maxPerSample.isZero()) {
            throw new IllegalArgumentException("the time per sample must be positive, got " + maxPerSample);
        }
    }
}
