package org.memhygiene.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.json.Json;
import picocli.CommandLine;

/** The agent's command line in process, scrubbing for real on this machine's kernel. */
class AgentMainTest {
    record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = AgentMain.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return new Run(cli.execute(args), out.toString(), err.toString());
    }

    @Test
    void scrubZeroesUpToMaxBytesAndReportsIt() throws Exception {
        Run run = run("scrub", "--max-bytes", "32M", "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode report = Json.mapper().readTree(run.out());
        assertEquals("COMPLETED", report.get("outcome").asText(), run.out());
        assertEquals(32L << 20, report.get("bytes_zeroed").asLong());
        Run human = run("scrub", "--max-bytes", "8M");
        assertEquals(0, human.exitCode(), human.err());
        assertTrue(human.out().contains("zeroed       8.0 MiB of 8.0 MiB targeted"), human.out());
    }

    @Test
    void aBadSizeIsAUsageError() {
        Run run = run("scrub", "--max-bytes", "lots");
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("'lots' is not a size"), run.err());
        assertTrue(run.err().contains("--help"), run.err());
    }

    @Test
    void postureListsFindingsAsTableAndJson() throws Exception {
        Run table = run("posture");
        assertEquals(0, table.exitCode(), table.err());
        assertTrue(table.out().contains("guest.kernel.version"), table.out());
        JsonNode json = Json.mapper().readTree(run("posture", "--json").out());
        assertTrue(json.isArray() && json.size() > 0);
        assertTrue(json.get(0).has("remediation"));
    }
}
