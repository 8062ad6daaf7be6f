package org.memhygiene.core.procmem;

/**
 * One line of /proc/PID/maps: a virtual memory area (Documentation/filesystems/proc.rst, "/proc/PID/maps").
 * Addresses are unsigned: compare them with {@link Long#compareUnsigned}.
 *
 * @param startAddress first byte of the area
 * @param endAddress   first byte after it
 * @param permissions  the four letters, e.g. {@code rw-p}: read, write, execute, then {@code s} shared or
 *                     {@code p} private
 * @param offsetBytes  offset into the file (0 for anonymous memory)
 * @param device       major:minor of the file's device, {@code 00:00} for anonymous memory
 * @param inode        the file's inode, 0 for anonymous memory
 * @param path         the file's path as the kernel prints it (a newline in a name is {@code \012}, a deleted
 *                     file ends with {@code " (deleted)"}), a pseudo-name such as {@code [heap]},
 *                     {@code [stack]} or {@code [anon:name]}, or empty
 */
public record MemoryMapping(
        long startAddress,
        long endAddress,
        String permissions,
        long offsetBytes,
        String device,
        long inode,
        String path) {

    public long sizeBytes() {
        return endAddress - startAddress;
    }

    public boolean readable() {
        return permissions.charAt(0) == 'r';
    }

    public boolean writable() {
        return permissions.charAt(1) == 'w';
    }

    public boolean executable() {
        return permissions.charAt(2) == 'x';
    }

    /** {@code s}: a shared mapping (MAP_SHARED); KSM never merges its pages. */
    public boolean shared() {
        return permissions.charAt(3) == 's';
    }

    /** Private anonymous memory: no file, and no pseudo-name but a user-given {@code [anon:…]} one. */
    public boolean anonymous() {
        return inode == 0 && (path.isEmpty() || path.startsWith("[anon:"));
    }

    /** A memfd (memfd_create), shown as {@code /memfd:NAME (deleted)}. */
    public boolean memfd() {
        return path.startsWith("/memfd:");
    }
}
