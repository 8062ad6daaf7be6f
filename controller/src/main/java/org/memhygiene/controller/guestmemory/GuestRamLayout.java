package org.memhygiene.controller.guestmemory;

import java.util.List;

/**
 * The mappings of a QEMU process that back its guest's RAM, and how they were found.
 *
 * @param regions  in address order
 * @param howFound e.g. "one mapping of the domain's 4096 MiB" or "2 mappings (VmFlags dc/mg/hg) summing to …"
 */
public record GuestRamLayout(List<GuestRamRegion> regions, String howFound) {
    public GuestRamLayout {
        regions = List.copyOf(regions);
    }

    public long sizeBytes() {
        return regions.stream().mapToLong(GuestRamRegion::sizeBytes).sum();
    }

    public long pages(long pageSizeBytes) {
        return sizeBytes() / pageSizeBytes;
    }
}
