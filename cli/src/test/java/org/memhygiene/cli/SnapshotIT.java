package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.ui.SnapshotCheck;

/** bin/memhygiene dashboard --snapshot from the packaged jars: every view rendered headless, with content. */
class SnapshotIT {
    private static final Path ROOT =
            Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
    private static final Path LAUNCHER = ROOT.resolve("bin/memhygiene");
    private static final List<String> VIEWS = List.of(
            "01-host-overview.png",
            "02-trade-off.png",
            "03-vms.png",
            "04-findings.png",
            "05-controls.png",
            "06-vm-detail.png");

    @TempDir
    Path dir;

    record Run(int exitCode, String output) {}

    private Run dashboard(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString(), "dashboard"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(3, TimeUnit.MINUTES), "the dashboard exits by itself");
        return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void rendersEveryViewOfTheBuiltInHostWithDrawnContent() throws Exception {
        Path out = dir.resolve("img");
        Run run = dashboard("--snapshot", out.toString());
        assertEquals(0, run.exitCode(), run.output());
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(
                    VIEWS, files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        for (String view : VIEWS) {
            SnapshotCheck.Stats stats = SnapshotCheck.stats(out.resolve(view));
            assertTrue(stats.drawn(), view + " has drawn content: " + stats);
        }
    }

    @Test
    void rendersAUsersScenario() throws Exception {
        Path out = dir.resolve("farm");
        // At 10 simulated s per real s: eight 4 GiB guests are a lot of pages to simulate on a small machine.
        Run run = dashboard(
                "--snapshot",
                out.toString(),
                "--speed",
                "10",
                "--scenario",
                ROOT.resolve("docs/scenarios/web-farm.yaml").toString());
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(SnapshotCheck.drawn(out.resolve("01-host-overview.png")), run.output());
    }

    @Test
    void aScenarioThatIsNotThereIsAUsageError() throws Exception {
        Run run = dashboard("--snapshot", dir.resolve("x").toString(), "--scenario", "no-such.yaml");
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(
                run.output().contains("--scenario no-such.yaml: cannot read it: no such file or directory"),
                run.output());
    }

    /** Made before any window: a --snapshot that cannot be a directory is a usage error saying why. */
    @Test
    void aSnapshotDirectoryThatCannotBeMadeIsAUsageError() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "");
        Run run = dashboard("--snapshot", file.resolve("views").toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(
                run.output()
                        .startsWith("memhygiene: --snapshot " + file.resolve("views")
                                + ": cannot create it: Not a directory\n"),
                run.output());
    }

    @Test
    void anInvalidScenarioIsAUsageErrorNamingTheFieldBeforeAnyWindow() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "name: bad\nguests: [{name: a, memory: 12X}]\n");
        Run run = dashboard("--snapshot", dir.resolve("x").toString(), "--scenario", bad.toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("--scenario guests[0].memory = \"12X\": expected bytes"), run.output());
        assertTrue(run.output().contains("bad.yaml"), run.output());
    }

    @Test
    void aPrometheusUrlThatIsNotHttpOrWithAnotherSourceIsAUsageError() throws Exception {
        Run notHttp = dashboard("--prometheus", "ftp://example");
        assertEquals(2, notHttp.exitCode(), notHttp.output());
        assertTrue(
                notHttp.output().contains("--prometheus ftp://example: expected an http or https URL"),
                notHttp.output());
        Run both = dashboard("--prometheus", "http://127.0.0.1:9090", "--connect", "http://127.0.0.1:9520");
        assertEquals(2, both.exitCode(), both.output());
        assertTrue(both.output().contains("--prometheus shows the fleet"), both.output());
    }

    @Test
    void aConnectUrlThatIsNotHttpIsAUsageError() throws Exception {
        Run run = dashboard(
                "--connect", "ftp://example", "--snapshot", dir.resolve("x").toString());
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("--connect ftp://example: expected an http:// or https:// URL"), run.output());
    }
}
