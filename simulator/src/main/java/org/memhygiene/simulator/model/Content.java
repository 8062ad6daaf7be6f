package org.memhygiene.simulator.model;

/**
 * A page's content as one int, the simulator's stand-in for the page's bytes: two pages are identical
 * exactly when their ids are equal, so the id is also the page's checksum (mm/ksm.c calc_checksum).
 * 0 is the zero page. The top three bits say the page class; bit 28 marks content shared by design
 * (the same OS image page, the same file page, a secret every guest of an image holds); the rest is an
 * image and page index for shared content, or a per-class counter for unique content.
 */
public final class Content {
    public static final int ZERO = 0;
    /** An rmap item's checksum before ksmd has read the page once; no content has this id. */
    public static final int NO_CHECKSUM = -1;

    public static final int OS_IMAGE = 1;
    public static final int PAGE_CACHE = 2;
    public static final int ANON = 3;
    public static final int SECRET = 4;

    private static final int CLASS_SHIFT = 29;
    private static final int SHARED_BIT = 1 << 28;
    private static final int IMAGE_SHIFT = 21;
    /** 2^21 pages (8 GiB of 4 KiB pages) of shared content per class and image. */
    public static final int MAX_SHARED_INDEX = (1 << IMAGE_SHIFT) - 1;
    /** 127 images. */
    public static final int MAX_IMAGES = (1 << (28 - IMAGE_SHIFT)) - 1;

    private static final int UNIQUE_MASK = SHARED_BIT - 1;

    private Content() {}

    /**
     * Whether no other page can hold this content: unique content is made once (a serial per class),
     * so ksmd's tree searches for it cannot succeed and the simulator skips them (same counters).
     */
    public static boolean isUnique(int content) {
        return content != ZERO && (content & SHARED_BIT) == 0;
    }

    public static boolean isSecret(int content) {
        return pageClass(content) == SECRET;
    }

    /** The page class ({@link #OS_IMAGE} … {@link #SECRET}) the content was made for; 0 for the zero page. */
    public static int pageClass(int content) {
        return content >>> CLASS_SHIFT;
    }

    /** Content that every guest of {@code image} has at {@code index} of class {@code pageClass}. */
    public static int shared(int pageClass, int image, int index) {
        return pageClass << CLASS_SHIFT | SHARED_BIT | image << IMAGE_SHIFT | (index & MAX_SHARED_INDEX);
    }

    /**
     * Unique content number {@code serial} of a class. Serials wrap after 2^28 writes of a class; a
     * wrapped id can collide with a page that still holds the old one (documented in docs/SIMULATOR.md).
     */
    public static int unique(int pageClass, long serial) {
        return pageClass << CLASS_SHIFT | (int) (serial & UNIQUE_MASK);
    }
}
