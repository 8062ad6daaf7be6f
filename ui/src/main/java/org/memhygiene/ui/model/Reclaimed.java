package org.memhygiene.ui.model;

/**
 * Guest memory the host got back, by how it came back.
 *
 * @param sharingBytes           KSM merging identical non-zero pages (across or within VMs)
 * @param zeroPageBytes          KSM mapping zero-filled pages to the kernel's zero page (use_zero_pages=1)
 * @param freePageReportingBytes pages the guest's balloon reported free and the host discarded
 */
public record Reclaimed(long sharingBytes, long zeroPageBytes, long freePageReportingBytes) {
    public static final Reclaimed NONE = new Reclaimed(0, 0, 0);

    public long totalBytes() {
        return sharingBytes + zeroPageBytes + freePageReportingBytes;
    }

    public Reclaimed plus(Reclaimed other) {
        return new Reclaimed(sharingBytes + other.sharingBytes, zeroPageBytes + other.zeroPageBytes,
                freePageReportingBytes + other.freePageReportingBytes);
    }
}
