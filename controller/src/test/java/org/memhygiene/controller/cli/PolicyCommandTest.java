package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.controller.cli.CliRun.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.json.Json;

/** {@code memhygiene policy explain} on libvirt's test driver and this machine's KSM; it must write nothing. */
class PolicyCommandTest {
    private static final Path KSM = Path.of("/sys/kernel/mm/ksm");

    @TempDir
    Path dir;

    private static Map<String, String> knobs() throws IOException {
        Map<String, String> values = new TreeMap<>();
        for (String knob : new String[] {"run", "pages_to_scan", "sleep_millisecs", "use_zero_pages"}) {
            Path file = KSM.resolve(knob);
            if (Files.isReadable(file)) {
                values.put(knob, Files.readString(file).strip());
            }
        }
        return values;
    }

    @Test
    void explainPrintsTheDecisionAndItsReason() throws IOException {
        Map<String, String> before = knobs();
        CliRun run = run("policy", "explain", "--uri", "test:///default", "--interval", "200ms");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(
                run.out().startsWith("policy adaptive on libvirt test:///default, samples 200 ms apart\n"), run.out());
        assertTrue(run.out().matches("(?s).*\nKSM: +(leave as is|write .*)\n.*"), run.out());
        assertTrue(run.out().matches("(?s).*\nreason: .*(→|nothing to decide).*"), run.out());
        assertTrue(run.out().contains("nothing was written"), run.out());
        assertEquals(before, knobs(), "explain writes no KSM knob");
    }

    @Test
    void explainJsonWithABaselinePolicyFile() throws IOException {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, "mode: baseline\n");
        Map<String, String> before = knobs();
        CliRun run = run(
                "policy",
                "explain",
                "--uri",
                "test:///default",
                "--interval",
                "100ms",
                "--config",
                policy.toString(),
                "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = Json.mapper().readTree(run.out());
        assertEquals("baseline", json.get("mode").asText());
        assertEquals("test:///default", json.get("uri").asText());
        assertEquals(100, json.get("interval_millis").asLong());
        assertEquals(false, json.get("written").asBoolean());
        assertTrue(json.get("scrubs").isArray() && json.get("scrubs").isEmpty(), run.out());
        if (Files.isReadable(KSM.resolve("run"))) {
            // ksmtuned's rules always write run (and, while running, pages_to_scan and sleep_millisecs).
            assertTrue(json.get("ksm").has("run"), run.out());
            assertTrue(json.get("reason").asText().startsWith("ksmtuned rules: MemTotal "), run.out());
        } else {
            assertTrue(json.get("ksm").isNull(), run.out());
        }
        assertEquals(before, knobs(), "explain writes no KSM knob");
    }

    @Test
    void aBadPolicyFileIsAUsageErrorNamingTheKey() throws IOException {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, "adaptive:\n  cpu_budget_percent: 250\n");
        CliRun run = run("policy", "explain", "--uri", "test:///default", "--config", policy.toString());
        assertEquals(2, run.exitCode(), run.out());
        assertTrue(
                run.err().contains("adaptive.cpu_budget_percent = 250: expected a number from 0.1 to 100"), run.err());

        CliRun zero = run("policy", "explain", "--uri", "test:///default", "--interval", "0");
        assertEquals(2, zero.exitCode());
        assertTrue(zero.err().contains("'0' must be longer than zero"), zero.err());
    }
}
