package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ksm set` on a KSM tree that sits on a real read-only file system (a tmpfs remounted read-only, in
 * a private mount namespace so the host sees nothing): a clear error, and nothing changed.
 */
class ReadOnlySysfsCliTest {
    @TempDir
    Path dir;

    @Test
    void aReadOnlyFileSystemIsNamedAndNothingChanges() throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "skipped: needs unshare (util-linux)");
        Path mountPoint = Files.createDirectories(dir.resolve("ksm"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String script = String.join(
                " && ",
                List.of(
                        "mount -t tmpfs -o size=1m memhygiene-test \"$1\"",
                        "printf '100\\n' > \"$1/pages_to_scan\"",
                        "printf '0\\n' > \"$1/run\"",
                        "mount -o remount,ro \"$1\"",
                        "\"$2\" -cp \"$3\" " + HostCli.class.getName()
                                + " ksm set --sysfs-root \"$1\" pages_to_scan=5 run=1; code=$?",
                        "printf 'after: %s %s\\n' \"$(cat \"$1/pages_to_scan\")\" \"$(cat \"$1/run\")\"",
                        "exit $code"));
        ProcessRun run = ProcessRun.of(
                List.of(
                        "/usr/bin/unshare",
                        "--mount",
                        "--propagation",
                        "private",
                        "sh",
                        "-c",
                        script,
                        "sh",
                        mountPoint.toString(),
                        java,
                        System.getProperty("java.class.path")),
                dir);
        String out = run.out();
        String err = run.err();
        Assumptions.assumeFalse(
                err.contains("mount:") || err.contains("unshare:"),
                "skipped: this machine does not allow mounting a tmpfs in a new mount namespace: " + err);
        assertEquals(1, run.exitCode(), out + err);
        assertTrue(err.contains("is on a read-only file system"), err);
        assertTrue(err.contains("nothing was changed"), err);
        assertTrue(out.contains("after: 100 0"), out);
    }
}
