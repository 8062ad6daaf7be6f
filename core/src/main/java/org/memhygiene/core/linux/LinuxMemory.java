package org.memhygiene.core.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;

/**
 * Memory calls on Linux (x86-64 and aarch64 values). Every failure raises a
 * {@link NativeCallException} naming the call, the errno and the arguments.
 */
public final class LinuxMemory {
    /** _SC_PAGESIZE from glibc's bits/confname.h (https://man7.org/linux/man-pages/man3/sysconf.3.html). */
    static final int SC_PAGESIZE = 30;

    /** PROT_* from include/uapi/asm-generic/mman-common.h. */
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    /** MAP_* from include/uapi/linux/mman.h and asm-generic/mman-common.h. */
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;

    /** MADV_* from include/uapi/asm-generic/mman-common.h (https://man7.org/linux/man-pages/man2/madvise.2.html). */
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_MERGEABLE = 12;
    public static final int MADV_UNMERGEABLE = 13;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;

    private static final Pointer MAP_FAILED = new Pointer(-1);
    private static volatile long pageSizeBytes;

    private LinuxMemory() {
    }

    /** The running system's page size, from sysconf(_SC_PAGESIZE); never assume 4096. */
    public static long pageSizeBytes() {
        long cached = pageSizeBytes;
        if (cached == 0) {
            try {
                cached = LibC.INSTANCE.sysconf(SC_PAGESIZE);
            } catch (LastErrorException e) {
                throw new NativeCallException("sysconf", e.getErrorCode(), "_SC_PAGESIZE");
            }
            pageSizeBytes = cached;
        }
        return cached;
    }

    /** An anonymous private read-write mapping of {@code lengthBytes}. */
    public static Pointer mapAnonymous(long lengthBytes) {
        try {
            Pointer address = LibC.INSTANCE.mmap(null, lengthBytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (MAP_FAILED.equals(address)) {
                throw new NativeCallException("mmap", Errno.ENOMEM, "length=" + lengthBytes);
            }
            return address;
        } catch (LastErrorException e) {
            throw new NativeCallException("mmap", e.getErrorCode(),
                    "NULL, length=" + lengthBytes + ", PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0");
        }
    }

    public static void unmap(Pointer address, long lengthBytes) {
        try {
            LibC.INSTANCE.munmap(address, lengthBytes);
        } catch (LastErrorException e) {
            throw new NativeCallException("munmap", e.getErrorCode(), address + ", length=" + lengthBytes);
        }
    }

    public static void madvise(Pointer address, long lengthBytes, int advice) {
        try {
            LibC.INSTANCE.madvise(address, lengthBytes, advice);
        } catch (LastErrorException e) {
            throw new NativeCallException("madvise", e.getErrorCode(),
                    address + ", length=" + lengthBytes + ", advice=" + advice);
        }
    }
}
