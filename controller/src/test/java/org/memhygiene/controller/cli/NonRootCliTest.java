package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.json.Json;

/**
 * The CLI run for real as an unprivileged user (nobody, through setpriv): reading KSM works, changing
 * it fails with a clear "needs root" error and changes nothing. Needs root to switch users.
 */
class NonRootCliTest {
    private static final String NOBODY = "65534";
    private static Path sandbox;
    private static String classPath;

    @BeforeAll
    static void copyClassPathWhereNobodyCanReadIt() throws IOException {
        Assumptions.assumeTrue(isRoot(), "skipped: switching to user nobody needs root");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "skipped: needs setpriv (util-linux)");
        // The build's class path may sit under /root (mode 700); copy it to a world-readable place.
        sandbox = Files.createTempDirectory("memhygiene-nonroot");
        Files.setPosixFilePermissions(sandbox, PosixFilePermissions.fromString("rwxrwxrwx"));
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            if (!Files.exists(source)) {
                continue;
            }
            Path target = sandbox.resolve("cp" + i++ + (Files.isDirectory(source) ? "" : ".jar"));
            copyReadable(source, target);
            entries.add(target.toString());
        }
        classPath = String.join(File.pathSeparator, entries);
    }

    @AfterAll
    static void removeSandbox() throws IOException {
        if (sandbox != null) {
            try (Stream<Path> files = Files.walk(sandbox)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void readingKsmNeedsNoPrivilegeButChangingItNeedsRoot() throws Exception {
        Path run = Path.of("/sys/kernel/mm/ksm/run");
        Assumptions.assumeTrue(Files.exists(run), "skipped: kernel without KSM");
        String current = Files.readString(run).strip();

        ProcessRun status = asNobody("ksm", "status", "--json");
        assertEquals(0, status.exitCode(), status.err());
        assertTrue(status.out().contains("\"pages_sharing\""), status.out());

        // Writing the value it already has: even if the permission check were missing, nothing changes.
        ProcessRun set = asNobody("ksm", "set", "run=" + current);
        assertEquals(1, set.exitCode(), set.out() + set.err());
        assertTrue(
                set.err().contains("permission denied writing /sys/kernel/mm/ksm/run: changing KSM knobs needs root"),
                set.err());
        assertEquals(current, Files.readString(run).strip());
    }

    /**
     * /proc/PID/ksm_stat is its owner's and root's alone: nobody's `ksm top` cannot see root's processes
     * (PID 1 among them, and on a host QEMU's), and says how many it could not read instead of "no process".
     */
    @Test
    void ksmTopSaysHowManyProcessesItMayNotRead() throws Exception {
        Assumptions.assumeTrue(
                Files.exists(Path.of("/proc/1/ksm_stat")), "skipped: a kernel without /proc/PID/ksm_stat (before 6.1)");
        ProcessRun json = asNobody("ksm", "top", "--json");
        assertEquals(0, json.exitCode(), json.err());
        assertTrue(
                Json.mapper().readTree(json.out()).get("unreadable_processes").asInt() >= 1, json.out());
        ProcessRun text = asNobody("ksm", "top");
        assertEquals(0, text.exitCode(), text.err());
        assertTrue(
                text.out()
                        .contains(" not shown: /proc/PID/ksm_stat is readable by the process's owner and root only;"
                                + " run as root to see every process."),
                text.out());
        assertFalse(text.out().contains("No process has pages tracked by KSM"), text.out());
    }

    @Test
    void aTreeNobodyMayNotWriteIsLeftAsItWas() throws Exception {
        Path ksm = Files.createDirectories(sandbox.resolve("ksm"));
        Files.setPosixFilePermissions(ksm, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(ksm.resolve("pages_to_scan"), "100\n");
        Files.writeString(ksm.resolve("run"), "0\n");
        for (String file : List.of("pages_to_scan", "run")) {
            Files.setPosixFilePermissions(ksm.resolve(file), PosixFilePermissions.fromString("rw-r--r--"));
        }
        ProcessRun set = asNobody("ksm", "set", "--sysfs-root", ksm.toString(), "pages_to_scan=5", "run=1");
        assertEquals(1, set.exitCode(), set.err());
        assertTrue(set.err().contains("permission denied writing " + ksm.resolve("pages_to_scan")), set.err());
        assertEquals("100", Files.readString(ksm.resolve("pages_to_scan")).strip());
        assertEquals("0", Files.readString(ksm.resolve("run")).strip());
    }

    private static ProcessRun asNobody(String... args) throws IOException, InterruptedException {
        Path jnaTmp = Files.createDirectories(sandbox.resolve("jna"));
        Files.setPosixFilePermissions(jnaTmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        List<String> command = new ArrayList<>(List.of(
                "/usr/bin/setpriv",
                "--reuid=" + NOBODY,
                "--regid=" + NOBODY,
                "--clear-groups",
                "--",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djna.tmpdir=" + jnaTmp,
                "-Xshare:auto",
                "-cp",
                classPath,
                HostCli.class.getName()));
        command.addAll(List.of(args));
        return ProcessRun.of(command, sandbox);
    }

    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(line -> line.matches("Uid:\\s+0\\s.*"));
        } catch (IOException e) {
            return false;
        }
    }

    private static void copyReadable(Path source, Path target) throws IOException {
        try (Stream<Path> files = Files.walk(source)) {
            files.forEach(from -> {
                Path to = target.resolve(source.relativize(from).toString());
                try {
                    if (Files.isDirectory(from)) {
                        Files.createDirectories(to);
                        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
                    } else {
                        Files.copy(from, to);
                        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
