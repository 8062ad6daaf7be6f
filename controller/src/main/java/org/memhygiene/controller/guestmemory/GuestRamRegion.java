package org.memhygiene.controller.guestmemory;

/**
 * One stretch of a QEMU process's address space that backs guest RAM: one mapping of /proc/PID/maps, or
 * adjacent mappings of the same backing that the kernel keeps apart (e.g. part of them mlocked).
 *
 * @param startAddress first byte
 * @param endAddress   first byte after
 * @param backing      what the memory is
 * @param shared       a MAP_SHARED mapping: KSM never merges it and the zero page never appears in it
 * @param path         the backing file as /proc/PID/maps names it; empty for anonymous memory
 */
public record GuestRamRegion(long startAddress, long endAddress, Backing backing, boolean shared, String path) {

    /** How QEMU backs the memory (https://libvirt.org/formatdomain.html#memory-backing). */
    public enum Backing {
        /** memory-backend-ram, or QEMU's default RAM: private anonymous memory (the only kind KSM merges). */
        ANONYMOUS,
        /** memory-backend-memfd ({@code <source type='memfd'/>}): shmem. */
        MEMFD,
        /** memory-backend-file: a file, on hugetlbfs for {@code <hugepages/>} or in memory_backing_dir. */
        FILE
    }

    public long sizeBytes() {
        return endAddress - startAddress;
    }

    /** E.g. "anonymous 0x7f0000000000-0x7f0100000000 (4.0 GiB)". */
    public String describe() {
        String what = switch (backing) {
            case ANONYMOUS -> "anonymous";
            case MEMFD -> "memfd " + path;
            case FILE -> (shared ? "shared file " : "private file ") + path;
        };
        return what + " 0x" + Long.toHexString(startAddress) + "-0x" + Long.toHexString(endAddress) + " ("
                + sizeBytes() / (1024 * 1024) + " MiB)";
    }
}
