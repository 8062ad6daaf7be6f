package org.memhygiene.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A phase's directory goes when the phase passed and stays as evidence when it failed. */
class PhaseDirectoryTest {
    private Path dir;

    @AfterEach
    void removeLeftovers() throws Exception {
        if (dir != null && Files.exists(dir)) {
            PhaseDirectory.remove(dir);
        }
    }

    @Test
    void aPassedPhaseLeavesNothingBehind() throws Exception {
        dir = daemonFiles();

        PhaseDirectory.removeUnlessFailed(dir, List.of(Check.of(true, "held"), Check.of(true, "held too")));

        assertFalse(Files.exists(dir), dir + " should be gone");
    }

    @Test
    void aFailedPhaseKeepsItsDaemonsLogAndHistory() throws Exception {
        dir = daemonFiles();

        PhaseDirectory.removeUnlessFailed(dir, List.of(Check.of(true, "held"), Check.of(false, "failed")));

        assertTrue(Files.isRegularFile(dir.resolve("memhygiene-run.log")), "the daemon's log should stay");
        assertTrue(
                Files.isRegularFile(dir.resolve("memhygiene-run-history.mv.db")), "the daemon's history should stay");
    }

    /** What ControllerDaemon leaves in a phase's directory (H2 names the history file). */
    private static Path daemonFiles() throws Exception {
        Path d = PhaseDirectory.create("test");
        Files.writeString(d.resolve("memhygiene-run.log"), "started\n");
        Files.writeString(d.resolve("memhygiene-run.yaml"), "api: {port: 0}\n");
        Files.writeString(d.resolve("memhygiene-run-history.mv.db"), "h2");
        return d;
    }
}
