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
 * A VM command whose libvirt cannot be used, run as an admin runs it, in a process of its own: one line on
 * stderr that says why, exit 1, and nothing printed as if it had worked.
 */
class LibvirtUnavailableCliTest {
    @TempDir
    Path dir;

    /**
     * Without libvirt's C library (Debian's libvirt0) the line names the library and the package, instead
     * of JNA's UnsatisfiedLinkError and its stack trace. The library is really not found, not faked: the
     * command's JVM has its JNA search only an empty directory (jna.platform.library.path), and the system's
     * dlopen knows no unversioned libvirt.so unless libvirt-dev is installed (then the test skips).
     */
    @ParameterizedTest
    @ValueSource(strings = {"vms", "node-memory"})
    void withoutTheLibraryTheCommandNamesItAndItsPackage(String command) throws IOException, InterruptedException {
        Path noLibraries = Files.createDirectories(dir.resolve("no-libraries"));
        ProcessRun run = run(
                List.of("-Djna.platform.library.path=" + noLibraries, "-Djna.library.path=" + noLibraries),
                command,
                "test:///default");
        Assumptions.assumeFalse(
                run.exitCode() == 0,
                "skipped: the system's dlopen found libvirt.so (libvirt-dev installed), so it cannot be missing here");
        assertOneLineError(
                run,
                "memhygiene: error: libvirt on test:///default: load libvirt's client library failed:"
                        + " libvirt.so.0 was not found (");
        assertTrue(
                run.err().strip().endsWith("); install it (Debian: apt-get install libvirt0)"),
                "names the package: " + run.err());
    }

    /**
     * A URI libvirt cannot open: the command's error says so, once. The sampler's log of the source going
     * down, which is for the daemon's journal, used to come first and say it again in two more lines.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vms", "posture", "policy explain", "vm show test"})
    void aLibvirtThatCannotBeOpenedIsSaidOnce(String command) throws IOException, InterruptedException {
        String uri = "test://" + dir.resolve("no-such-host.xml");
        assertOneLineError(
                run(List.of(), command, uri), "memhygiene: error: libvirt on " + uri + ": open connection failed: ");
    }

    private ProcessRun run(List<String> jvmOptions, String command, String uri)
            throws IOException, InterruptedException {
        List<String> java = new ArrayList<>();
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        java.addAll(jvmOptions);
        java.addAll(List.of("-cp", System.getProperty("java.class.path"), HostCli.class.getName()));
        java.addAll(List.of(command.split(" ")));
        java.addAll(List.of("--uri", uri));
        return ProcessRun.of(java, dir);
    }

    private static void assertOneLineError(ProcessRun run, String expectedStart) {
        assertEquals(1, run.exitCode(), run.out() + run.err());
        assertTrue(run.err().startsWith(expectedStart), "starts with '" + expectedStart + "': " + run.err());
        assertEquals(1, run.err().strip().lines().count(), "one line: " + run.err());
        assertFalse(run.out().contains("libvirt "), "printed nothing as if it had worked: " + run.out());
    }
}
