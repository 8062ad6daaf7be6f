package org.memhygiene.controller.libvirt;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Points file descriptor 2 at a file while a piece of code runs, to see what native code (libvirt,
 * libxml2) writes to stderr: System.err capture cannot see it.
 */
final class StderrCapture {
    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int open(String path, int flags, int mode);

        int dup(int fd);

        int dup2(int fd, int target);

        int close(int fd);
    }

    private static final int STDERR = 2;
    private static final int O_WRONLY_CREAT_TRUNC = 01 | 0100 | 01000;

    private StderrCapture() {}

    /** What the native code wrote to fd 2 while {@code action} ran. */
    static String capture(Path file, Runnable action) throws IOException {
        int target = LibC.INSTANCE.open(file.toString(), O_WRONLY_CREAT_TRUNC, 0600);
        int saved = LibC.INSTANCE.dup(STDERR);
        if (target < 0 || saved < 0) {
            throw new IOException("cannot redirect stderr to " + file);
        }
        LibC.INSTANCE.dup2(target, STDERR);
        try {
            action.run();
        } finally {
            LibC.INSTANCE.dup2(saved, STDERR);
            LibC.INSTANCE.close(saved);
            LibC.INSTANCE.close(target);
        }
        return Files.readString(file);
    }
}
