package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.json.Json;

/** bin/memhygiene from the packaged jars, started from an unrelated working directory. */
class LauncherIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath().getParent().resolve("bin/memhygiene");

    @TempDir
    Path elsewhere;

    private ProcessRun launch(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        return ProcessRun.of(command, elsewhere);
    }

    @Test
    void runsTheCliFromAnyDirectory() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys/kernel/mm/ksm")), "skipped: kernel without KSM");
        ProcessRun status = launch("ksm", "status", "--json");
        assertEquals(0, status.exitCode(), status.err());
        JsonNode json = Json.mapper().readTree(status.out());
        assertTrue(json.at("/stats/run").isNumber(), status.out());
        assertTrue(launch("ksm", "status").out().contains("pages_sharing"));
    }

    @Test
    void usageErrorsExitWithTwo() throws Exception {
        ProcessRun bad = launch("ksm", "set", "run=9");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("invalid value '9' for KSM knob run"), bad.err());
        assertEquals(2, launch("no-such-command").exitCode());
    }
}
