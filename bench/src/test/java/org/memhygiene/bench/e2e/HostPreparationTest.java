package org.memhygiene.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Where the real-VM suite cannot run, the real e2e/run.sh --fixture says why and the suite is skipped
 * with that reason instead of failing: run for real as user nobody (through setpriv), which is not root.
 */
class HostPreparationTest {
    private static final Path RUN_SH = Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath()
            .getParent()
            .resolve("e2e/run.sh");
    private Path sandbox;

    @AfterEach
    void removeSandbox() throws Exception {
        if (sandbox != null) {
            PhaseDirectory.remove(sandbox);
        }
    }

    @Test
    void anUnprivilegedUserGetsRunShsReasonToSkip() throws Exception {
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "skipped: switching to user nobody needs root");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "skipped: needs setpriv (util-linux)");
        // The repository may sit under /root (mode 700): a copy of the script where nobody can run it.
        sandbox = Files.createTempDirectory("memhygiene-e2e-prep");
        Files.setPosixFilePermissions(sandbox, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path script = Files.createDirectories(sandbox.resolve("e2e")).resolve("run.sh");
        Files.copy(RUN_SH, script);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

        HostPreparation prep = HostPreparation.start(
                List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", script.toString(), "--fixture"),
                sandbox);

        assertEquals(Optional.of("needs root (libvirt's qemu:///system, KSM knobs)"), prep.skipReason());
    }
}
