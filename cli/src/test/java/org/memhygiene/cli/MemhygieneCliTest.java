package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** memhygiene as the command module assembles it: every module's commands under one root, one error convention. */
class MemhygieneCliTest {
    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = MemhygieneCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void theHelpListsTheHostsTheSimulatorsAndTheDashboardsCommands() {
        Run help = run("--help");
        assertEquals(0, help.exitCode(), help.err());
        for (String command : new String[] {
            "ksm", "vms", "vm", "agent", "node-memory", "run", "status", "policy", "posture", "sim", "dashboard"
        }) {
            assertTrue(
                    help.out().lines().anyMatch(l -> l.strip().startsWith(command + " ")),
                    command + " in " + help.out());
        }
        assertEquals(0, run("dashboard", "--help").exitCode());
        assertEquals(0, run("sim", "run", "--help").exitCode());
        assertTrue(run("--version").out().startsWith("memhygiene "));
    }

    @Test
    void runOnABadScenarioIsAUsageErrorNamingItsField() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "name: bad\nguests: [{name: a, memory: 12X}]\n");
        Run run = run("run", "--scenario", bad.toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("scenario guests[0].memory = \"12X\": expected bytes"), run.err());
    }

    @Test
    void aDashboardOptionThatIsWrongIsAUsageErrorOfTheDashboard() {
        Run run = run("dashboard", "--theme", "pink");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--theme pink: expected light or dark"), run.err());
        assertTrue(run.err().contains("memhygiene dashboard --help"), run.err());
    }
}
