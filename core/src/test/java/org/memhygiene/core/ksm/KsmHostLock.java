package org.memhygiene.core.ksm;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The host's KSM knobs are one per machine: a test class that changes them holds
 * {@value #PATH} while it runs ({@code @ExtendWith(KsmHostLock.class)}), the lock the real-VM suite
 * (e2e/run.sh), the benchmark scripts and anyone's {@code flock /tmp/memhygiene-ksm.lock ...} take. So two
 * builds on one host, or a build beside the real-VM suite, take turns instead of changing each other's
 * knobs mid-test (a full build beside the suite once set pages_to_scan from 1000 to 100 under its watch).
 * It is flock(2), as flock(1) takes it, not Java's FileLock (fcntl locks, which flock(2) does not see).
 * Nested classes and classes run one after the other in one JVM share one hold; under a process that holds
 * it already ({@code flock /tmp/memhygiene-ksm.lock ./mvnw -B verify}) it is not taken again, which would
 * wait for ourselves forever (e2e/run.sh makes the same check).
 */
public final class KsmHostLock implements BeforeAllCallback, AfterAllCallback {
    public static final String PATH = "/tmp/memhygiene-ksm.lock";

    private static final int O_RDWR = 2;
    private static final int O_CREAT = 0100;
    private static final int O_CLOEXEC = 02000000;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;

    /** https://man7.org/linux/man-pages/man2/flock.2.html */
    private interface Calls extends Library {
        Calls INSTANCE = Native.load("c", Calls.class);

        int open(String path, int flags, int mode);

        int flock(int fd, int operation);

        int close(int fd);
    }

    private static int holders;
    private static int fd = -1;

    @Override
    public void beforeAll(ExtensionContext context) {
        acquire(context.getDisplayName());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        release();
    }

    static synchronized void acquire(String who) {
        if (holders++ > 0) {
            return;
        }
        if (heldByAnAncestor()) {
            return;
        }
        int opened = Calls.INSTANCE.open(PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (opened < 0) {
            System.out.println(who + ": cannot open " + PATH + " (errno " + Native.getLastError()
                    + "): running without the host's KSM lock");
            return;
        }
        if (Calls.INSTANCE.flock(opened, LOCK_EX | LOCK_NB) != 0) {
            System.out.println(
                    who + ": waiting for " + PATH + ": another build's KSM tests or the real-VM suite hold it");
            if (Calls.INSTANCE.flock(opened, LOCK_EX) != 0) {
                System.out.println(who + ": flock " + PATH + " failed (errno " + Native.getLastError()
                        + "): running without the host's KSM lock");
                Calls.INSTANCE.close(opened);
                return;
            }
        }
        fd = opened;
    }

    /** /proc/locks: "1: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF"; waiters show "->" and are not holders. */
    private static boolean heldByAnAncestor() {
        try {
            Path lock = Path.of(PATH);
            if (!Files.exists(lock)) {
                return false;
            }
            String inode = ":" + Files.getAttribute(lock, "unix:ino");
            Set<Long> holders = new HashSet<>();
            for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 5 && f[1].equals("FLOCK") && f[5].endsWith(inode)) {
                    holders.add(Long.parseLong(f[4]));
                }
            }
            for (Optional<ProcessHandle> p = ProcessHandle.current().parent();
                    p.isPresent();
                    p = p.get().parent()) {
                if (holders.contains(p.get().pid())) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static synchronized void release() {
        if (--holders > 0) {
            return;
        }
        holders = 0;
        if (fd >= 0) {
            Calls.INSTANCE.close(fd); // closing the only descriptor releases the flock
            fd = -1;
        }
    }
}
