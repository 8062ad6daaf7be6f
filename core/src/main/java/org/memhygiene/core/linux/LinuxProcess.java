package org.memhygiene.core.linux;

/** Process-wide settings of the running process. */
public final class LinuxProcess {
    private LinuxProcess() {}

    /**
     * Sets the file mode creation mask (umask(2), https://man7.org/linux/man-pages/man2/umask.2.html) and
     * returns the one before: every file and directory the process creates from now on, also those a
     * library creates (H2's database, its temporary files), lacks the bits {@code mask} has.
     */
    public static int umask(int mask) {
        return LibC.INSTANCE.umask(mask);
    }
}
