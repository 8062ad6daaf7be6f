package org.memhygiene.core.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls memhygiene makes, bound with JNA. Use {@link LinuxMemory} rather than this
 * interface: it turns errno into {@link NativeCallException}s that name the call and its arguments.
 */
interface LibC extends com.sun.jna.Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    /** https://man7.org/linux/man-pages/man3/sysconf.3.html */
    long sysconf(int name) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/mmap.2.html */
    Pointer mmap(Pointer address, long lengthBytes, int protection, int flags, int fd, long offsetBytes)
            throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/munmap.2.html */
    int munmap(Pointer address, long lengthBytes) throws LastErrorException;

    /** https://man7.org/linux/man-pages/man2/madvise.2.html */
    int madvise(Pointer address, long lengthBytes, int advice) throws LastErrorException;
}
