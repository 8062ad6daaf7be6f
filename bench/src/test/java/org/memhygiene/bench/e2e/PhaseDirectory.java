package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A phase's files under the temporary directory (its daemons' configuration, policy, log and history): left
 * there only when the phase failed, where they are the evidence, so that runs on a CI machine do not pile
 * them up in /tmp.
 */
final class PhaseDirectory {
    private PhaseDirectory() {}

    static Path create(String phase) throws IOException {
        return Files.createTempDirectory("memhygiene-e2e-" + phase);
    }

    /**
     * Removes {@code dir} when every check held; keeps it, and says so, when one failed. A phase that throws
     * never gets here, so its directory stays too (each daemon's start named its log). A removal that fails
     * is logged, not thrown: the phase's checks held, and leftover files do not change what it measured.
     */
    static void removeUnlessFailed(Path dir, List<Check> checks) {
        long failed = checks.stream().filter(c -> !c.held()).count();
        if (failed > 0) {
            log("kept %s (the phase's daemon logs and history) for its %d failed checks", dir, failed);
            return;
        }
        try {
            remove(dir);
        } catch (IOException e) {
            log("could not remove %s after its phase passed: %s", dir, e);
        }
    }

    static void remove(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
