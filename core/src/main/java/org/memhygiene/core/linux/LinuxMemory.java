package org.memhygiene.core.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import java.util.Map;

/**
 * Memory calls on Linux (x86-64 and aarch64 values, which agree for everything here). Every failure
 * raises a {@link NativeCallException} naming the call, the errno and the arguments.
 */
public final class LinuxMemory {
    /** _SC_PAGESIZE from glibc's bits/confname.h (https://man7.org/linux/man-pages/man3/sysconf.3.html). */
    static final int SC_PAGESIZE = 30;

    /** PROT_* from https://github.com/torvalds/linux/blob/master/include/uapi/asm-generic/mman-common.h (https://man7.org/linux/man-pages/man2/mprotect.2.html). */
    public static final int PROT_NONE = 0x0;

    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;

    /** MAP_* from https://github.com/torvalds/linux/blob/master/include/uapi/asm-generic/mman-common.h and uapi/linux/mman.h (https://man7.org/linux/man-pages/man2/mmap.2.html). */
    public static final int MAP_SHARED = 0x01;

    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;

    /**
     * MADV_* from include/uapi/asm-generic/mman-common.h
     * (https://github.com/torvalds/linux/blob/master/include/uapi/asm-generic/mman-common.h,
     * meanings in https://man7.org/linux/man-pages/man2/madvise.2.html).
     */
    public static final int MADV_DONTNEED = 4;
    /** Free lazily, only under memory pressure (4.5). */
    public static final int MADV_FREE = 8;
    /** Punch a hole in shmem/tmpfs backing (2.6.16). */
    public static final int MADV_REMOVE = 9;
    /** Do not copy the range into a child on fork (2.6.16). */
    public static final int MADV_DONTFORK = 10;
    /** KSM may merge the range (2.6.32, Documentation/admin-guide/mm/ksm.rst). */
    public static final int MADV_MERGEABLE = 12;

    public static final int MADV_UNMERGEABLE = 13;
    /** Back with transparent huge pages (Documentation/admin-guide/mm/transhuge.rst). */
    public static final int MADV_HUGEPAGE = 14;

    public static final int MADV_NOHUGEPAGE = 15;
    /** Leave the range out of core dumps (3.4). */
    public static final int MADV_DONTDUMP = 16;
    /** A child sees the range zero-filled after fork; private anonymous mappings only (4.14). */
    public static final int MADV_WIPEONFORK = 18;
    /** Move the range to the inactive LRU (5.4). */
    public static final int MADV_COLD = 20;
    /** Reclaim the range now (5.4). */
    public static final int MADV_PAGEOUT = 21;
    /** Fault the range in writable in one call, as if written page by page (5.14). */
    public static final int MADV_POPULATE_WRITE = 23;

    /**
     * memfd_secret's syscall number, 447 on both targets: x86-64 in
     * https://github.com/torvalds/linux/blob/master/arch/x86/entry/syscalls/syscall_64.tbl, aarch64 in the
     * generic table https://github.com/torvalds/linux/blob/master/include/uapi/asm-generic/unistd.h.
     */
    static final long SYS_MEMFD_SECRET = 447;
    /** PR_{SET,GET}_MEMORY_MERGE from https://github.com/torvalds/linux/blob/master/include/uapi/linux/prctl.h (6.4; https://man7.org/linux/man-pages/man2/prctl.2.html). */
    static final int PR_SET_MEMORY_MERGE = 67;

    static final int PR_GET_MEMORY_MERGE = 68;

    private static final Map<Integer, String> ADVICE_NAMES = Map.ofEntries(
            Map.entry(MADV_DONTNEED, "MADV_DONTNEED"),
            Map.entry(MADV_FREE, "MADV_FREE"),
            Map.entry(MADV_REMOVE, "MADV_REMOVE"),
            Map.entry(MADV_DONTFORK, "MADV_DONTFORK"),
            Map.entry(MADV_MERGEABLE, "MADV_MERGEABLE"),
            Map.entry(MADV_UNMERGEABLE, "MADV_UNMERGEABLE"),
            Map.entry(MADV_HUGEPAGE, "MADV_HUGEPAGE"),
            Map.entry(MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE"),
            Map.entry(MADV_DONTDUMP, "MADV_DONTDUMP"),
            Map.entry(MADV_WIPEONFORK, "MADV_WIPEONFORK"),
            Map.entry(MADV_COLD, "MADV_COLD"),
            Map.entry(MADV_PAGEOUT, "MADV_PAGEOUT"),
            Map.entry(MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"));

    private static final Pointer MAP_FAILED = new Pointer(-1);
    private static volatile long pageSizeBytes;

    private LinuxMemory() {}

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
        return map(null, lengthBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }

    /** mmap(2) with every argument explicit; {@code address} may be null. */
    public static Pointer map(Pointer address, long lengthBytes, int protection, int flags, int fd, long offsetBytes) {
        String arguments = address + ", length=" + lengthBytes + ", prot=0x" + Integer.toHexString(protection)
                + ", flags=0x" + Integer.toHexString(flags) + ", fd=" + fd + ", offset=" + offsetBytes;
        try {
            Pointer mapped = LibC.INSTANCE.mmap(address, lengthBytes, protection, flags, fd, offsetBytes);
            if (MAP_FAILED.equals(mapped)) {
                throw new NativeCallException("mmap", Errno.ENOMEM, arguments);
            }
            return mapped;
        } catch (LastErrorException e) {
            throw new NativeCallException("mmap", e.getErrorCode(), arguments);
        }
    }

    public static void unmap(Pointer address, long lengthBytes) {
        try {
            LibC.INSTANCE.munmap(address, lengthBytes);
        } catch (LastErrorException e) {
            throw new NativeCallException("munmap", e.getErrorCode(), address + ", length=" + lengthBytes);
        }
    }

    public static void protect(Pointer address, long lengthBytes, int protection) {
        try {
            LibC.INSTANCE.mprotect(address, lengthBytes, protection);
        } catch (LastErrorException e) {
            throw new NativeCallException(
                    "mprotect",
                    e.getErrorCode(),
                    address + ", length=" + lengthBytes + ", prot=0x" + Integer.toHexString(protection));
        }
    }

    public static void madvise(Pointer address, long lengthBytes, int advice) {
        try {
            LibC.INSTANCE.madvise(address, lengthBytes, advice);
        } catch (LastErrorException e) {
            throw new NativeCallException(
                    "madvise",
                    e.getErrorCode(),
                    address + ", length=" + lengthBytes + ", advice=" + adviceName(advice));
        }
    }

    /** Pins the range in RAM; charged to RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK. */
    public static void lock(Pointer address, long lengthBytes) {
        try {
            LibC.INSTANCE.mlock(address, lengthBytes);
        } catch (LastErrorException e) {
            throw new NativeCallException("mlock", e.getErrorCode(), address + ", length=" + lengthBytes);
        }
    }

    public static void unlock(Pointer address, long lengthBytes) {
        try {
            LibC.INSTANCE.munlock(address, lengthBytes);
        } catch (LastErrorException e) {
            throw new NativeCallException("munlock", e.getErrorCode(), address + ", length=" + lengthBytes);
        }
    }

    /**
     * memfd_secret(2) (5.14, https://man7.org/linux/man-pages/man2/memfd_secret.2.html): a file
     * descriptor for memory removed from the kernel's direct map. ENOSYS when the kernel lacks it or it
     * is disabled (secretmem.enable=0).
     */
    public static int memfdSecret(int flags) {
        try {
            return (int) LibC.INSTANCE.syscall(SYS_MEMFD_SECRET, flags);
        } catch (LastErrorException e) {
            throw new NativeCallException("memfd_secret", e.getErrorCode(), "flags=0x" + Integer.toHexString(flags));
        }
    }

    public static void truncate(int fd, long lengthBytes) {
        try {
            LibC.INSTANCE.ftruncate(fd, lengthBytes);
        } catch (LastErrorException e) {
            throw new NativeCallException("ftruncate", e.getErrorCode(), "fd=" + fd + ", length=" + lengthBytes);
        }
    }

    public static void close(int fd) {
        try {
            LibC.INSTANCE.close(fd);
        } catch (LastErrorException e) {
            throw new NativeCallException("close", e.getErrorCode(), "fd=" + fd);
        }
    }

    /** Whether KSM merges all of this process's eligible memory (prctl PR_GET_MEMORY_MERGE, 6.4; EINVAL before). */
    public static boolean processMemoryMerge() {
        try {
            return LibC.INSTANCE.prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) == 1;
        } catch (LastErrorException e) {
            throw new NativeCallException("prctl", e.getErrorCode(), "PR_GET_MEMORY_MERGE");
        }
    }

    /** Turns KSM merging of the whole process on or off (prctl PR_SET_MEMORY_MERGE, 6.4; needs CAP_SYS_RESOURCE). */
    public static void setProcessMemoryMerge(boolean enabled) {
        try {
            LibC.INSTANCE.prctl(PR_SET_MEMORY_MERGE, enabled ? 1 : 0, 0, 0, 0);
        } catch (LastErrorException e) {
            throw new NativeCallException("prctl", e.getErrorCode(), "PR_SET_MEMORY_MERGE, " + (enabled ? 1 : 0));
        }
    }

    /** "MADV_DONTNEED" for 4, or the number for advice this class does not name. */
    public static String adviceName(int advice) {
        String name = ADVICE_NAMES.get(advice);
        return name != null ? name : Integer.toString(advice);
    }
}
