package org.memhygiene.simulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.cli.CliErrors;
import picocli.CommandLine;

class SimCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = CliErrors.configure(new CommandLine(new SimCommand()), "memhygiene");
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    private static Path scenario(Path dir) throws Exception {
        Path file = dir.resolve("s.yaml");
        Files.writeString(file, """
                name: cli
                ksm: {pages_to_scan: 1000, use_zero_pages: 1}
                guests:
                  - {name: g, count: 2, memory: 16MiB, boot: 0s}
                """);
        return file;
    }

    @Test
    void runWritesOneJsonRowPerSampleInterval(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("out.json");
        assertEquals(0, run("run", scenario(dir).toString(), "--duration", "2m", "--every", "30s", "--out", json.toString()),
                err.toString());
        JsonNode rows = new ObjectMapper().readTree(json.toFile());
        assertEquals(4, rows.size());
        assertEquals(120.0, rows.get(3).get("seconds").asDouble());
        assertTrue(rows.get(3).get("ksm_zero_pages").asLong() > 0, rows.get(3).toString());
        assertTrue(rows.get(3).get("full_scans").asLong() > rows.get(0).get("full_scans").asLong());
    }

    @Test
    void runWritesCsvAndPrintsATableWithoutOut(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("out.csv");
        assertEquals(0, run("run", scenario(dir).toString(), "--duration", "1m", "--out", csv.toString()));
        var lines = Files.readAllLines(csv);
        assertTrue(lines.get(0).startsWith("seconds,pages_shared,pages_sharing"), lines.get(0));
        assertEquals(7, lines.size(), "header and a row per 10 s");
        assertEquals(0, run("run", scenario(dir).toString(), "--duration", "20s"));
        assertTrue(out.toString().contains("zero_pages"), out.toString());
    }

    @Test
    void sweepPrintsEveryPolicyAndModeAndMarksTheFrontier(@TempDir Path dir) throws Exception {
        assertEquals(0, run("sweep", scenario(dir).toString(), "--duration", "1m"), err.toString());
        String table = out.toString();
        assertEquals(1 + 4 * 4, table.lines().count(), table);
        assertTrue(table.contains("zero-pages / init_on_free"), table);
        assertTrue(table.lines().anyMatch(l -> l.endsWith("*")), table);
    }

    @Test
    void badScenarioOrOutIsAUsageError(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "name: b\nguests: [{name: a, memory: much}]\n");
        assertEquals(2, run("run", bad.toString()));
        assertTrue(err.toString().contains("guests[0].memory"), err.toString());
        assertEquals(2, run("run", scenario(dir).toString(), "--out", dir.resolve("x.txt").toString()));
        assertEquals(2, run("run", scenario(dir).toString(), "--duration", "0s"));
        assertTrue(err.toString().contains("'0s' must be longer than zero"), err.toString());
    }
}
