package org.memhygiene.core.host;

import java.util.Arrays;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A domain's memory statistics (virDomainMemoryStats, https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainMemoryStatTags),
 * sizes converted from libvirt's KiB to bytes. A figure libvirt does not report (no balloon, a guest
 * driver that lacks it, no stats period set) is absent, not 0.
 *
 * @param actualBytes            the balloon's current size: memory the guest has
 * @param unusedBytes            memory the guest leaves completely unused
 * @param availableBytes         memory the guest sees as usable in total
 * @param usableBytes            memory the guest could use without swapping (MemAvailable)
 * @param rssBytes               resident set size of the QEMU process on the host
 * @param diskCachesBytes        guest page cache that can be dropped
 * @param majorFaults            guest major page faults
 * @param minorFaults            guest minor page faults
 * @param lastUpdateEpochSeconds when the guest last updated the figures
 */
public record BalloonStats(
        OptionalLong actualBytes,
        OptionalLong unusedBytes,
        OptionalLong availableBytes,
        OptionalLong usableBytes,
        OptionalLong rssBytes,
        OptionalLong diskCachesBytes,
        OptionalLong majorFaults,
        OptionalLong minorFaults,
        OptionalLong lastUpdateEpochSeconds) {

    public static final BalloonStats NONE = new BalloonStats(
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty(),
            OptionalLong.empty());

    /** virDomainMemoryStatTags values, https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainMemoryStatTags */
    public static final int TAG_MAJOR_FAULT = 2;

    public static final int TAG_MINOR_FAULT = 3;
    public static final int TAG_UNUSED = 4;
    public static final int TAG_AVAILABLE = 5;
    public static final int TAG_ACTUAL_BALLOON = 6;
    public static final int TAG_RSS = 7;
    public static final int TAG_USABLE = 8;
    public static final int TAG_LAST_UPDATE = 9;
    public static final int TAG_DISK_CACHES = 10;
    /** VIR_DOMAIN_MEMORY_STAT_NR: as many as libvirt 9 knows, so none is cut off. */
    public static final int MAX_STATS = 16;

    private static final long KIB = 1024;

    /** From libvirt's statistics as tag → value pairs (virDomainMemoryStats; sizes in KiB as libvirt gives them). */
    public static BalloonStats of(Map<Integer, Long> valueByTag) {
        OptionalLong[] byTag = new OptionalLong[TAG_DISK_CACHES + 1];
        Arrays.fill(byTag, OptionalLong.empty());
        valueByTag.forEach((tag, value) -> {
            if (tag >= 0 && tag < byTag.length) {
                byTag[tag] = OptionalLong.of(value);
            }
        });
        return new BalloonStats(
                kib(byTag[TAG_ACTUAL_BALLOON]),
                kib(byTag[TAG_UNUSED]),
                kib(byTag[TAG_AVAILABLE]),
                kib(byTag[TAG_USABLE]),
                kib(byTag[TAG_RSS]),
                kib(byTag[TAG_DISK_CACHES]),
                byTag[TAG_MAJOR_FAULT],
                byTag[TAG_MINOR_FAULT],
                byTag[TAG_LAST_UPDATE]);
    }

    private static OptionalLong kib(OptionalLong value) {
        return value.isPresent() ? OptionalLong.of(value.getAsLong() * KIB) : value;
    }
}
