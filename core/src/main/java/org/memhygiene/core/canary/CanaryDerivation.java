package org.memhygiene.core.canary;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * SHA-256 in counter mode filled 1024 pages of 4 KiB in 14.8 s and this in about 1 s. Nothing here needs
 * to be secret: a page only has to be unlike every other page in RAM (a 256-bit seed per page) and equal
 * in every guest given the same nonce.
 */
public final class CanaryDerivation {
    /** Named in canary-plant's reply, so a host can tell which derivation an agent used. */
    public static final String NAME = "sha256-xoshiro256starstar-v1";

    private CanaryDerivation() {}

    /** Page {@code pageIndex} of the canary for {@code nonce}, {@code pageSizeBytes} long (a multiple of 8). */
    public static byte[] page(byte[] nonce, int pageIndex, int pageSizeBytes) {
        byte[] page = new byte[pageSizeBytes];
        fill(nonce, pageIndex, ByteBuffer.wrap(page));
        return page;
    }

    /**
     * Writes page {@code pageIndex} into the remaining bytes of {@code page} (a multiple of 8), which may be
     * a direct buffer over the page itself: the agent fills its locked pages in place, so that no copy of a
     * page is left behind on the Java heap, where it would be a second page of the same contents in RAM.
     */
    public static void fill(byte[] nonce, int pageIndex, ByteBuffer page) {
        if (page.remaining() == 0 || page.remaining() % Long.BYTES != 0) {
            throw new IllegalArgumentException(page.remaining() + " bytes: expected a positive multiple of 8");
        }
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        sha256.update(nonce);
        sha256.update(new byte[] {
            (byte) (pageIndex >>> 24), (byte) (pageIndex >>> 16), (byte) (pageIndex >>> 8), (byte) pageIndex
        });
        byte[] seed = sha256.digest();
        long s0 = littleEndian(seed, 0);
        long s1 = littleEndian(seed, 8);
        long s2 = littleEndian(seed, 16);
        long s3 = littleEndian(seed, 24);
        ByteBuffer out = page.slice().order(ByteOrder.LITTLE_ENDIAN);
        while (out.hasRemaining()) {
            out.putLong(Long.rotateLeft(s1 * 5, 7) * 9);
            long t = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = Long.rotateLeft(s3, 45);
        }
        page.position(page.limit());
    }

    private static long littleEndian(byte[] bytes, int from) {
        long value = 0;
        for (int b = Long.BYTES - 1; b >= 0; b--) {
            value = (value << 8) | (bytes[from + b] & 0xff);
        }
        return value;
    }
}
