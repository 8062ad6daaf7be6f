package org.memhygiene.core.canary;

import java.util.HexFormat;
import java.util.Locale;

/**
 * What a deduplication canary may be (docs/PROTOCOL.md "canary-plant"): the nonce's length, how many
 * pages, how long its lease. Each check throws an IllegalArgumentException that names the field as the
 * caller spells it (the protocol's "nonce", the command line's "--nonce") and what was expected.
 */
public final class CanaryBounds {
    /** 16 bytes is enough that two probes never share a nonce; 32 keeps SHA-256's input one block. */
    public static final int MIN_NONCE_BYTES = 16;

    public static final int MAX_NONCE_BYTES = 32;
    public static final int DEFAULT_PAGES = 256;
    public static final int MAX_PAGES = 1024;
    /**
     * Canary pages (and as many control pages) one probe may lock: 1024 pages of 4 KiB, so at most 8 MiB
     * locked in all; fewer pages where pages are larger.
     */
    public static final long MAX_BYTES_PER_KIND = 4L * 1024 * 1024;

    public static final long MIN_LEASE_MILLIS = 1_000;
    public static final long MAX_LEASE_MILLIS = 3_600_000;
    /** Long enough for ksmd's default pace to scan a few GiB of guests twice. */
    public static final long DEFAULT_LEASE_MILLIS = 600_000;

    private CanaryBounds() {}

    /** min(1024, 4 MiB / page size): 1024 with 4 KiB pages, 256 with 16 KiB, 64 with 64 KiB. */
    public static int maxPages(long pageSizeBytes) {
        return (int) Math.max(1, Math.min(MAX_PAGES, MAX_BYTES_PER_KIND / pageSizeBytes));
    }

    public static int defaultPages(long pageSizeBytes) {
        return Math.min(DEFAULT_PAGES, maxPages(pageSizeBytes));
    }

    /** The nonce's bytes from hex text (either case) of 16 to 32 bytes. */
    public static byte[] parseNonce(String field, String hex) {
        if (hex.length() % 2 != 0
                || hex.length() < 2 * MIN_NONCE_BYTES
                || hex.length() > 2 * MAX_NONCE_BYTES
                || !hex.chars().allMatch(CanaryBounds::isHexDigit)) {
            throw new IllegalArgumentException(field + " = \"" + abbreviate(hex) + "\": expected " + 2 * MIN_NONCE_BYTES
                    + " to " + 2 * MAX_NONCE_BYTES + " hex digits (" + MIN_NONCE_BYTES + " to " + MAX_NONCE_BYTES
                    + " bytes), an even number");
        }
        return HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
    }

    private static boolean isHexDigit(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    public static String hex(byte[] nonce) {
        return HexFormat.of().formatHex(nonce);
    }

    /** {@code pages} canary pages (as many control pages) on a system of {@code pageSizeBytes} pages. */
    public static int checkPages(String field, long pages, long pageSizeBytes) {
        int max = maxPages(pageSizeBytes);
        if (pages < 1 || pages > max) {
            throw new IllegalArgumentException(
                    field + " = " + pages + ": expected 1 to " + max + " (at most " + MAX_BYTES_PER_KIND / 1024
                            + " KiB of " + pageSizeBytes + "-byte pages, and at most " + MAX_PAGES + ")");
        }
        return (int) pages;
    }

    public static long checkLease(String field, long millis) {
        if (millis < MIN_LEASE_MILLIS || millis > MAX_LEASE_MILLIS) {
            throw new IllegalArgumentException(field + " = " + millis + ": expected " + MIN_LEASE_MILLIS + " to "
                    + MAX_LEASE_MILLIS + " milliseconds");
        }
        return millis;
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "...";
    }
}
