package org.memhygiene.ui.model;

/**
 * Guest memory the host got back, by how it came back.
 *
 * @param sharingBytes           KSM merging identical non-zero pages (across or within VMs)
 * @param zeroPageBytes          guest pages mapped to the kernel's zero page: KSM's use_zero_pages=1 and, where
 *                               measured page by page, the zero subpages of split THPs
 * @param freePageReportingBytes pages given back: reported free by the guest's balloon and discarded by the host
 *                               (page by page: every page an earlier pass saw backed and now absent)
 */
public record Reclaimed(long sharingBytes, long zeroPageBytes, long freePageReportingBytes) {
    public static final Reclaimed NONE = new Reclaimed(0, 0, 0);

    public long totalBytes() {
        return sharingBytes + zeroPageBytes + freePageReportingBytes;
    }

    public Reclaimed plus(Reclaimed other) {
        return new Reclaimed(
                sharingBytes + other.sharingBytes,
                zeroPageBytes + other.zeroPageBytes,
                freePageReportingBytes + other.freePageReportingBytes);
    }
}
