package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.json.Json;

/** The CLI end to end, in process: arguments, tables, JSON and exit codes, on temporary trees. */
class KsmCliTest {
    @TempDir
    Path dir;

    Path ksm;
    Path proc;

    @BeforeEach
    void tree() throws IOException {
        ksm = Files.createDirectories(dir.resolve("ksm"));
        Map<String, String> files = Map.ofEntries(
                Map.entry("pages_shared", "10"),
                Map.entry("pages_sharing", "2550"),
                Map.entry("pages_unshared", "40"),
                Map.entry("pages_volatile", "3"),
                Map.entry("full_scans", "7"),
                Map.entry("ksm_zero_pages", "256"),
                Map.entry("general_profit", "11000000"),
                Map.entry("run", "1"),
                Map.entry("pages_to_scan", "100"),
                Map.entry("sleep_millisecs", "20"),
                Map.entry("max_page_sharing", "256"),
                Map.entry("merge_across_nodes", "1"),
                Map.entry("use_zero_pages", "1"),
                Map.entry("stable_node_chains", "0"),
                Map.entry("stable_node_dups", "0"),
                Map.entry("stable_node_chains_prune_millisecs", "2000"));
        for (Map.Entry<String, String> file : files.entrySet()) {
            Files.writeString(ksm.resolve(file.getKey()), file.getValue() + "\n");
        }
        proc = Files.createDirectories(dir.resolve("proc"));
        Path qemu = Files.createDirectories(proc.resolve("4242"));
        Files.writeString(qemu.resolve("comm"), "qemu-system-x86\n");
        Files.writeString(
                qemu.resolve("ksm_stat"),
                "ksm_rmap_items 3000\nksm_zero_pages 256\nksm_merging_pages 2560\n"
                        + "ksm_process_profit 11000000\nksm_merge_any: no\nksm_mergeable: yes\n");
    }

    /** Runs a ksm subcommand on the test's trees. */
    private CliRun run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (all.size() >= 2 && all.get(0).equals("ksm")) {
            all.addAll(2, List.of("--sysfs-root", ksm.toString(), "--proc-root", proc.toString()));
        }
        return CliRun.run(all.toArray(String[]::new));
    }

    @Test
    void statusPrintsAnAlignedTableWithUnits() {
        CliRun run = run("ksm", "status");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("ksmd merging (run=1)"), run.out());
        assertTrue(run.out().matches("(?s).*pages_sharing\\s+2550\\s+10\\.0 MiB.*"), run.out());
        assertTrue(run.out().matches("(?s).*saved in total\\s+11\\.0 MiB.*"), run.out());
        assertTrue(run.out().matches("(?s).*smart_scan\\s+-\\s.*"), "a file the kernel lacks shows as -: " + run.out());
        assertTrue(run.out().matches("(?s).*sharing ratio \\(sharing/shared\\)\\s+255\\.00.*"), run.out());
    }

    @Test
    void statusJsonHasStableKeysAndNullForAbsentFiles() throws IOException {
        CliRun run = run("ksm", "status", "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = Json.mapper().readTree(run.out());
        long page = json.get("page_size_bytes").asLong();
        assertEquals(2550, json.at("/stats/pages_sharing").asLong());
        assertTrue(json.at("/stats/smart_scan").isNull(), "absent is null, not 0");
        assertTrue(json.at("/stats/advisor_mode").isNull());
        assertEquals((2550 + 256) * page, json.at("/savings/saved_total_bytes").asLong());
        assertEquals(11000000, json.at("/savings/general_profit_bytes").asLong());
        assertTrue(json.has("taken_at") && json.has("sysfs_root"));
    }

    @Test
    void setWritesAndReportsBeforeAndAfter() throws IOException {
        CliRun run = run("ksm", "set", "pages_to_scan=1000", "sleep_millisecs=50");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().matches("(?s).*pages_to_scan\\s+100\\s+1000.*"), run.out());
        assertEquals("1000", Files.readString(ksm.resolve("pages_to_scan")).strip());
        assertEquals("50", Files.readString(ksm.resolve("sleep_millisecs")).strip());
    }

    @Test
    void setDryRunWritesNothing() throws IOException {
        CliRun run = run("ksm", "set", "--dry-run", "--json", "pages_to_scan=1000");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = Json.mapper().readTree(run.out());
        assertTrue(json.get("dry_run").asBoolean());
        assertEquals("pages_to_scan", json.at("/changes/0/knob").asText(), "docs/CLI.md names knobs as sysfs does");
        assertEquals("100", json.at("/changes/0/before").asText());
        assertEquals("1000", json.at("/changes/0/after").asText());
        assertEquals("100", Files.readString(ksm.resolve("pages_to_scan")).strip());
    }

    @Test
    void anInvalidValueIsAUsageErrorAndNothingIsWritten() throws IOException {
        CliRun run = run("ksm", "set", "pages_to_scan=1000", "run=7");
        assertEquals(2, run.exitCode());
        assertTrue(
                run.err().contains("invalid value '7' for KSM knob run: expected an integer from 0 to 2"), run.err());
        assertEquals("100", Files.readString(ksm.resolve("pages_to_scan")).strip(), "nothing half-applied");
    }

    @Test
    void aRuntimeFaultExitsWithOneAndSaysWhy() {
        CliRun run = run("ksm", "set", "smart_scan=0");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("this kernel has no KSM knob smart_scan"), run.err());
        CliRun missing = CliRun.run(
                "ksm", "status", "--sysfs-root", dir.resolve("nowhere").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("KSM is not available"), missing.err());
    }

    @Test
    void unknownOptionsAndBadDurationsAreUsageErrors() {
        assertEquals(2, run("ksm", "status", "--bogus").exitCode());
        CliRun badInterval = run("ksm", "watch", "--interval", "soon");
        assertEquals(2, badInterval.exitCode());
        assertTrue(badInterval.err().contains("'soon' is not a duration"), badInterval.err());
        assertEquals(2, run("ksm", "watch", "--count", "0").exitCode());
        assertEquals(2, run("ksm", "top", "--limit", "-1").exitCode());
        assertEquals(2, run("ksm", "watch", "--restore-on-exit", "--count", "1").exitCode());
    }

    @Test
    void watchPrintsOneRowPerSampleWithRatesAfterTheFirst() {
        CliRun run = run("ksm", "watch", "--count", "3", "--interval", "10ms");
        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(4, lines.size(), run.out());
        assertTrue(lines.get(0).startsWith("TIME"));
        assertTrue(lines.get(1).trim().endsWith("-"), "no rates on the first row: " + lines.get(1));
        assertTrue(lines.get(2).contains("0.0"), "rates from the second row: " + lines.get(2));
    }

    @Test
    void watchJsonLinesCarryRates() throws IOException {
        CliRun run = run("ksm", "watch", "--count", "2", "--interval", "10ms", "--json");
        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(2, lines.size());
        assertTrue(Json.mapper().readTree(lines.get(0)).get("rates").isNull());
        assertTrue(Json.mapper()
                        .readTree(lines.get(1))
                        .at("/rates/elapsed_seconds")
                        .asDouble()
                > 0);
    }

    @Test
    void watchWithSetAndRestoreOnExitPutsTheKnobsBack() throws IOException {
        CliRun run = run(
                "ksm", "watch", "--count", "1", "--set", "pages_to_scan=5000", "--set", "run=0", "--restore-on-exit");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("set pages_to_scan=5000 (was 100)"), run.out());
        assertTrue(run.out().matches("(?s).*\\n\\S+\\s+0\\s+5000\\s.*"), "the watch saw the new values: " + run.out());
        assertTrue(run.out().contains("restored pages_to_scan=100"), run.out());
        assertEquals("100", Files.readString(ksm.resolve("pages_to_scan")).strip());
        assertEquals("1", Files.readString(ksm.resolve("run")).strip());
    }

    @Test
    void topListsProcessesWithNamesAndSavings() throws IOException {
        CliRun run = run("ksm", "top", "--limit", "5");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().matches("(?s).*4242\\s+qemu-system-x86\\s+2560\\s+256\\s+.*MiB.*"), run.out());
        JsonNode json = Json.mapper().readTree(run("ksm", "top", "--json").out());
        assertEquals(4242, json.at("/processes/0/pid").asInt());
        assertEquals(2560, json.at("/processes/0/merging_pages").asLong());
        assertTrue(json.at("/processes/0/mergeable").asBoolean());
        assertEquals(0, json.at("/unreadable_processes").asInt(), "root reads every process's figures");
        assertFalse(run.out().contains("not shown"), run.out());
    }

    @Test
    void helpExitsZero() {
        assertEquals(0, run("--help").exitCode());
        assertEquals(0, run("ksm", "set", "--help").exitCode());
    }
}
