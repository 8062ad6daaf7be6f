package org.memhygiene.simulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.simulator.scenario.ScenarioParser;
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
        assertEquals(
                0,
                run("run", scenario(dir).toString(), "--duration", "2m", "--every", "30s", "--out", json.toString()),
                err.toString());
        JsonNode rows = new ObjectMapper().readTree(json.toFile());
        assertEquals(4, rows.size());
        assertEquals(120.0, rows.get(3).get("seconds").asDouble());
        assertTrue(rows.get(3).get("ksm_zero_pages").asLong() > 0, rows.get(3).toString());
        assertTrue(rows.get(3).get("full_scans").asLong()
                > rows.get(0).get("full_scans").asLong());
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

    /** A cell's KSM knobs: an object in JSON (as a decision's "ksm"), "knob=value" pairs in CSV. */
    @Test
    void sweepWritesEachCellsKnobsAsAnObjectInJsonAndAsPairsInCsv(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("sweep.json");
        Path csv = dir.resolve("sweep.csv");
        assertEquals(0, run("sweep", scenario(dir).toString(), "--duration", "1m", "--out", json.toString()));
        assertEquals(0, run("sweep", scenario(dir).toString(), "--duration", "1m", "--out", csv.toString()));
        var rows = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertEquals(16, rows.size());
        var fast = rows.get(12).path("settings");
        assertTrue(fast.isObject(), rows.get(12).toString());
        assertEquals(1000, fast.path("pages_to_scan").asLong(), fast.toString());
        assertEquals(1, fast.path("use_zero_pages").asLong(), fast.toString());
        var lines = Files.readAllLines(csv);
        assertTrue(
                lines.get(13).contains(",pages_to_scan=1000 sleep_millisecs=10 use_zero_pages=1 run=1,"),
                lines.get(13));
    }

    @Test
    void badScenarioOrOutIsAUsageError(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "name: b\nguests: [{name: a, memory: much}]\n");
        assertEquals(2, run("run", bad.toString()));
        assertTrue(err.toString().contains("guests[0].memory"), err.toString());
        assertEquals(
                2,
                run(
                        "run",
                        scenario(dir).toString(),
                        "--out",
                        dir.resolve("x.txt").toString()));
        assertEquals(2, run("run", scenario(dir).toString(), "--duration", "0s"));
        assertTrue(err.toString().contains("'0s' must be longer than zero"), err.toString());
    }

    @Test
    void runRowsCarryEveryKsmCounterUnderTheNamesKsmStatusJsonUses(@TempDir Path dir) throws Exception {
        Path scenario = dir.resolve("chains.yaml");
        Files.writeString(scenario, """
                name: chains
                ksm: {pages_to_scan: 5000, sleep_millisecs: 10, max_page_sharing: 256}
                guests:
                  - {name: z, memory: 16MiB, boot: 0s, layout: {os_image: 0, page_cache: 0, anon: 0, zero: 1, secret: 0}}
                """);
        Path json = dir.resolve("out.json");
        assertEquals(
                0,
                run("run", scenario.toString(), "--duration", "2s", "--every", "1s", "--out", json.toString()),
                err.toString());
        JsonNode row = new ObjectMapper().readTree(json.toFile()).get(1);
        // The counters of `memhygiene ksm status --json` are the KsmStats components before the knobs (run on).
        KsmStats stats = SimulatedHost.of(ScenarioParser.load(scenario), Clock.systemUTC(), 1)
                .snapshot()
                .ksm()
                .orElseThrow()
                .stats();
        List<String> counters = new ArrayList<>();
        for (var it = Json.mapper().valueToTree(stats).fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (key.equals("run")) {
                break;
            }
            counters.add(key);
        }
        assertTrue(
                counters.contains("general_profit_bytes") && counters.contains("stable_node_dups"),
                counters.toString());
        for (String key : counters) {
            assertTrue(row.has(key), key + " in " + row);
        }
        // 4096 zero pages of one guest with max_page_sharing 256, as the real kernel shows them (KnownResultsTest).
        assertEquals(16, row.get("pages_shared").asLong(), row.toString());
        assertEquals(1, row.get("stable_node_chains").asLong(), row.toString());
        assertEquals(16, row.get("stable_node_dups").asLong(), row.toString());
        assertEquals(16, row.get("resident_pages").asLong(), "16 KSM pages back the guest's 4096 zero pages: " + row);

        Path csv = dir.resolve("out.csv");
        assertEquals(0, run("run", scenario.toString(), "--duration", "2s", "--every", "1s", "--out", csv.toString()));
        List<String> header = List.of(Files.readAllLines(csv).get(0).split(","));
        assertTrue(header.containsAll(counters) && header.contains("resident_pages"), header.toString());
        assertEquals(0, run("run", scenario.toString(), "--duration", "2s", "--every", "1s"));
        String table = out.toString()
                .lines()
                .filter(l -> l.contains("chains"))
                .findFirst()
                .orElseThrow();
        for (String column : new String[] {"volatile", "skipped", "scanned", "profit", "chains", "dups", "resident"}) {
            assertTrue(table.contains(column), column + " in " + table);
        }
    }

    @Test
    void aRunOfMoreRowsThanItCanWriteIsRefusedNamingBothFields(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("long.yaml");
        Files.writeString(
                file, "name: long\nduration: 1000h\nsample_interval: 1ms\nguests: [{name: g, memory: 16MiB}]\n");
        assertEquals(2, run("run", file.toString()));
        assertTrue(
                err.toString().contains("sample_interval")
                        && err.toString().contains("duration")
                        && err.toString().contains("3,600,000,000 rows"),
                err.toString());
        assertEquals(2, run("run", scenario(dir).toString(), "--duration", "1000h", "--every", "1ms"));
        assertTrue(err.toString().contains("--every") && err.toString().contains("--duration"), err.toString());
    }
}
