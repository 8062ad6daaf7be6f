package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On a machine without libvirt's C library (Debian's libvirt0), a VM command fails with one line that
 * names the library and the package to install, exit 1, instead of JNA's UnsatisfiedLinkError and its
 * stack trace. The library is really not found, not faked: the command runs in a JVM whose JNA searches
 * only an empty directory (jna.platform.library.path), and the system's dlopen knows no unversioned
 * libvirt.so unless libvirt-dev is installed (then the test skips).
 */
class LibvirtLibraryMissingTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"vms", "node-memory"})
    void aVmCommandNamesTheMissingLibraryAndItsPackage(String command) throws IOException, InterruptedException {
        Path noLibraries = Files.createDirectories(dir.resolve("no-libraries"));
        List<String> java = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djna.platform.library.path=" + noLibraries,
                "-Djna.library.path=" + noLibraries,
                "-cp",
                System.getProperty("java.class.path"),
                HostCli.class.getName(),
                command,
                "--uri",
                "test:///default"));
        ProcessRun run = ProcessRun.of(java, dir);
        Assumptions.assumeFalse(
                run.exitCode() == 0,
                "skipped: the system's dlopen found libvirt.so (libvirt-dev installed), so it cannot be missing here");
        assertEquals(1, run.exitCode(), run.out() + run.err());
        String expectedStart = "memhygiene: error: libvirt on test:///default: load libvirt's client library failed:"
                + " libvirt.so.0 was not found (";
        assertTrue(run.err().startsWith(expectedStart), "starts with '" + expectedStart + "': " + run.err());
        assertTrue(
                run.err().strip().endsWith("); install it (Debian: apt-get install libvirt0)"),
                "names the package: " + run.err());
        assertEquals(1, run.err().strip().lines().count(), "one line, no stack trace: " + run.err());
        assertFalse(run.out().contains("libvirt test:///default"), "printed nothing as if it had worked: " + run.out());
    }
}
