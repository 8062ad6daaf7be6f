package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.controller.cli.CliRun.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.json.Json;

/** {@code memhygiene posture} on libvirt's test driver (test:///default: one running domain "test") and this machine's files. */
class PostureCommandTest {
    @Test
    void theTablePrintsTheHostScoreItsFindingsAndOneRowPerVm() {
        CliRun run = run("posture", "--uri", "test:///default");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().matches("(?s)host test:///default: score \\d{1,3} / 100\n\n.*"), run.out());
        assertTrue(run.out().contains("SEVERITY"), run.out());
        assertTrue(run.out().contains("HOST FINDING"), run.out());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("test ") && l.contains("vm.agent.absent")), run.out());
    }

    @Test
    void jsonHasTheDocumentedKeysAndTheScoresAreTheRubrics() throws Exception {
        CliRun run = run("posture", "--uri", "test:///default", "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode root = Json.mapper().readTree(run.out());
        assertTrue(root.hasNonNull("sampled_at"));
        assertTrue(root.at("/host/score").isInt());
        assertTrue(
                root.at("/host/findings").isArray() && root.at("/host/findings").size() > 0);
        assertEquals(1, root.get("vms").size());
        JsonNode vm = root.at("/vms/0");
        assertEquals("test", vm.get("name").asText());
        assertEquals("6695eb01-f6a4-8304-79aa-97f2502e193f", vm.get("uuid").asText());
        for (JsonNode finding : vm.get("findings")) {
            assertEquals(List.of("id", "severity", "title", "evidence", "remediation"), fieldNames(finding));
        }
        assertTrue(vm.get("findings").findValuesAsText("id").contains("vm.agent.absent"));
        assertTrue(vm.get("score").asInt() <= 98);
    }

    @Test
    void oneVmByNameOrUuidAndAnUnknownNameIsAUsageError() throws Exception {
        CliRun byName = run("posture", "--uri", "test:///default", "--vm", "test");
        assertEquals(0, byName.exitCode(), byName.err());
        assertTrue(byName.out().contains("vm test (6695eb01-f6a4-8304-79aa-97f2502e193f): score "), byName.out());
        assertTrue(!byName.out().contains("HOST FINDING"), byName.out());
        JsonNode json = Json.mapper()
                .readTree(run(
                                "posture",
                                "--uri",
                                "test:///default",
                                "--vm",
                                "6695eb01-f6a4-8304-79aa-97f2502e193f",
                                "--json")
                        .out());
        assertEquals("test", json.get("name").asText());
        assertTrue(json.get("score").isInt());

        CliRun unknown = run("posture", "--uri", "test:///default", "--vm", "nosuch");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("no domain named 'nosuch' on test:///default; domains: test"), unknown.err());
    }

    @Test
    void vmsAndVmShowCarryThePostureToo() throws Exception {
        JsonNode vms = Json.mapper()
                .readTree(run("vms", "--uri", "test:///default", "--json").out());
        JsonNode posture = Json.mapper()
                .readTree(run("posture", "--uri", "test:///default", "--json").out());
        assertEquals(posture.at("/vms/0/score"), vms.at("/vms/0/posture/score"));
        JsonNode show = Json.mapper()
                .readTree(run("vm", "show", "test", "--uri", "test:///default", "--json")
                        .out());
        assertEquals(posture.at("/vms/0/findings"), show.at("/posture/findings"));
        assertTrue(run("vm", "show", "test", "--uri", "test:///default").out().contains("posture score"));
        String table = run("vms", "--uri", "test:///default").out();
        assertTrue(table.startsWith("libvirt test:///default, 1 domain, sampled in "), table);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
