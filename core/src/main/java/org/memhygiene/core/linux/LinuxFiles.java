package org.memhygiene.core.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import java.nio.file.Path;

/**
 * File descriptors for the calls Java's file API has no way to make (an ioctl on a /proc file). Every
 * failure raises a {@link NativeCallException} naming the call, the errno and the arguments; close a
 * descriptor with {@link LinuxMemory#close(int)}.
 */
public final class LinuxFiles {
    /** O_RDONLY and O_CLOEXEC from include/uapi/asm-generic/fcntl.h (the same on x86-64 and aarch64). */
    static final int O_RDONLY = 0;

    static final int O_CLOEXEC = 0x80000;

    private LinuxFiles() {}

    /** open(path, O_RDONLY | O_CLOEXEC): the descriptor. */
    public static int openReadOnly(Path path) {
        try {
            return LibC.INSTANCE.open(path.toString(), O_RDONLY | O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new NativeCallException("open", e.getErrorCode(), path + ", O_RDONLY|O_CLOEXEC");
        }
    }

    /** ioctl(fd, request, argument): the call's non-negative result. */
    public static int ioctl(int fd, long request, Pointer argument, String requestName) {
        try {
            return LibC.INSTANCE.ioctl(fd, request, argument);
        } catch (LastErrorException e) {
            throw new NativeCallException("ioctl", e.getErrorCode(), "fd=" + fd + ", " + requestName);
        }
    }
}
