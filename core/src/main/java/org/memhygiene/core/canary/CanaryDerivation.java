package org.memhygiene.core.canary;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The contents of a canary page, the same in every guest of a probe and recomputable by the host, which
 * finds the pages in guest RAM by content (docs/PROTOCOL.md "Canary page contents"):
 *
 * <pre>
 * seed   = SHA-256(nonce ‖ uint32_be(page_index))                 32 bytes
 * s0..s3 = the seed as four uint64, little-endian, bytes 0-7, 8-15, 16-23, 24-31
 * page   = xoshiro256** outputs from that state, each written as 8 bytes little-endian,
 *          until the page is full (page_size / 8 outputs)
 * </pre>
 *
 * xoshiro256** is Blackman and Vigna's generator (https://prng.di.unimi.it/xoshiro256starstar.c). One
 * hash per page and a cheap expansion, not SHA-256 in counter mode: the agent runs without a JIT, where
 * SHA-256 fills 4 KiB in 14 ms and this in under 1 ms (1024 pages: 15 s against 0.6 s). Nothing here needs
 * to be secret: a page only has to be unlike every other page in RAM (a 256-bit seed per page) and equal
 * in every guest given the same nonce.
 */
public final class CanaryDerivation {
    /** Named in canary-plant's reply, so a host can tell which derivation an agent used. */
    public static final String NAME = "sha256-xoshiro256starstar-v1";

    private CanaryDerivation() {
    }

    /** Page {@code pageIndex} of the canary for {@code nonce}, {@code pageSizeBytes} long (a multiple of 8). */
    public static byte[] page(byte[] nonce, int pageIndex, int pageSizeBytes) {
        if (pageSizeBytes <= 0 || pageSizeBytes % Long.BYTES != 0) {
            throw new IllegalArgumentException("pageSizeBytes = " + pageSizeBytes + ": expected a positive multiple of 8");
        }
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        sha256.update(nonce);
        sha256.update(new byte[] {(byte) (pageIndex >>> 24), (byte) (pageIndex >>> 16), (byte) (pageIndex >>> 8), (byte) pageIndex});
        byte[] seed = sha256.digest();
        long s0 = littleEndian(seed, 0);
        long s1 = littleEndian(seed, 8);
        long s2 = littleEndian(seed, 16);
        long s3 = littleEndian(seed, 24);
        byte[] page = new byte[pageSizeBytes];
        for (int at = 0; at < pageSizeBytes; at += Long.BYTES) {
            long output = Long.rotateLeft(s1 * 5, 7) * 9;
            long t = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = Long.rotateLeft(s3, 45);
            for (int b = 0; b < Long.BYTES; b++) {
                page[at + b] = (byte) (output >>> (8 * b));
            }
        }
        return page;
    }

    private static long littleEndian(byte[] bytes, int from) {
        long value = 0;
        for (int b = Long.BYTES - 1; b >= 0; b--) {
            value = (value << 8) | (bytes[from + b] & 0xff);
        }
        return value;
    }
}
