package org.memhygiene.core.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The lock is the one flock(1) takes: e2e/run.sh and a shell's flock see it held, also through a nested hold. */
class KsmHostLockTest {
    /** flock(1) -n on the lock file: 1 when someone holds it. */
    private static int flockNonBlocking() throws Exception {
        Process p = new ProcessBuilder("flock", "-n", KsmHostLock.PATH, "true")
                .redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    @Test
    void aHoldIsSeenByFlockAndLastsUntilTheOutermostRelease() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/flock")), "skipped: no flock(1) (util-linux) to check against");
        KsmHostLock.acquire("KsmHostLockTest");
        try {
            assertEquals(1, flockNonBlocking(), "flock -n while the test holds the lock");
            KsmHostLock.acquire("KsmHostLockTest, nested");
            KsmHostLock.release();
            assertEquals(1, flockNonBlocking(), "still held after the nested release");
        } finally {
            KsmHostLock.release();
        }
    }
}
