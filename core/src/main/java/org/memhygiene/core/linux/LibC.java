package org.memhygiene.core.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls memhygiene makes, bound with JNA. Use {@link LinuxMemory} and {@link LinuxThread}
 * rather than this interface: they turn errno into {@link NativeCallException}s that name the call and
 * its arguments. Declaring {@link LastErrorException} makes JNA clear errno before each call and throw
 * when the call leaves it set, which also resolves getpriority's legitimate -1 return.
 * size_t and off_t are {@code long}: both targets (x86-64, aarch64) are LP64.
 */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    /** https://man7.org/linux/man-pages/man3/sysconf.3.html */
    long sysconf(int name) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/umask.2.html (always succeeds; mode_t is 32 bits on Linux). */
    int umask(int mask);

    /** https://man7.org/linux/man-pages/man2/mmap.2.html */
    Pointer mmap(Pointer address, long lengthBytes, int protection, int flags, int fd, long offsetBytes)
            throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/munmap.2.html */
    int munmap(Pointer address, long lengthBytes) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/mprotect.2.html */
    int mprotect(Pointer address, long lengthBytes, int protection) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/madvise.2.html */
    int madvise(Pointer address, long lengthBytes, int advice) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/mlock.2.html */
    int mlock(Pointer address, long lengthBytes) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/mlock.2.html */
    int munlock(Pointer address, long lengthBytes) throws LastErrorException;

    /**
     * https://man7.org/linux/man-pages/man2/syscall.2.html — used for memfd_secret, which glibc does
     * not wrap. Bound with one fixed argument: glibc's syscall() reads its arguments from registers, so
     * the variadic declaration does not matter on x86-64 or aarch64.
     */
    long syscall(long number, long argument) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/ftruncate.2.html */
    int ftruncate(int fd, long lengthBytes) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/open.2.html (variadic in glibc; the mode is unused without O_CREAT). */
    int open(String path, int flags) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/ioctl.2.html (variadic in glibc: one pointer argument here). */
    int ioctl(int fd, long request, Pointer argument) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/close.2.html */
    int close(int fd) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/prctl.2.html (variadic in glibc; unused arguments must be 0). */
    int prctl(int option, long argument2, long argument3, long argument4, long argument5) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/gettid.2.html (glibc 2.30+). */
    int gettid();

    /** https://man7.org/linux/man-pages/man2/getpriority.2.html */
    int getpriority(int which, int who) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/setpriority.2.html */
    int setpriority(int which, int who, int nice) throws LastErrorException;

    /**
     * https://man7.org/linux/man-pages/man2/clock_getres.2.html; {@code timespec} is struct timespec
     * {tv_sec, tv_nsec}, two longs on both LP64 targets.
     */
    int clock_getres(int clockId, long[] timespec) throws LastErrorException;
}
