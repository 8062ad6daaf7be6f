package org.memhygiene.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.SelfMaps;
import picocli.CommandLine;

/** The agent's command line in process, scrubbing for real on this machine's kernel. */
class AgentMainTest {
    record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = AgentCommand.commandLine();
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
        Run zero = run("scrub", "--max-bytes", "0");
        assertEquals(2, zero.exitCode(), "a usage error, not a scrub that fails: " + zero.err());
        assertTrue(
                zero.err().contains("Invalid value for option '--max-bytes': '0' must be more than zero bytes"),
                zero.err());
        assertEquals(2, run("scrub", "--max-bytes", "0K").exitCode());
    }

    @Test
    void scrubFollowsTheConfigFile(@TempDir Path dir) throws Exception {
        // A headroom larger than any machine's memory leaves nothing to zero: proof the file was read.
        Path config = Files.writeString(dir.resolve("agent.yaml"), "scrub:\n  min_headroom_bytes: 64T\n");
        Run run = run("scrub", "--config", config.toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(
                "SKIPPED_NOTHING_TO_DO",
                Json.mapper().readTree(run.out()).get("outcome").asText(),
                run.out());
    }

    @Test
    void aBadConfigFileOrListenAddressIsAUsageErrorNamingIt(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("agent.yaml"), "scrub:\n  max_rate: 1G\n");
        Run badFile = run("--config", config.toString());
        assertEquals(2, badFile.exitCode());
        assertTrue(badFile.err().contains("config " + config + ": unknown key \"scrub.max_rate\""), badFile.err());
        Run badListen = run("--listen", "tcp:0.0.0.0:7000");
        assertEquals(2, badListen.exitCode());
        assertTrue(badListen.err().contains("'tcp:0.0.0.0:7000' is not a listen address"), badListen.err());
        Path noDirectory = dir.resolve("no-such-dir/agent.sock");
        Run cannotBind = run("--listen", "unix:" + noDirectory);
        assertEquals(1, cannotBind.exitCode());
        assertEquals(
                "memhygiene-agent: error: cannot listen on unix:" + noDirectory + ": No such file or directory\n",
                cannotBind.err());
    }

    @Test
    void withNoSubcommandItServesTheProtocol(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("agent.sock");
        Thread agent = new Thread(() -> run("--listen", "unix:" + socket));
        agent.setDaemon(true);
        agent.start();
        try (SocketChannel channel = TestAgent.connectWhenListening(socket)) {
            Channels.newOutputStream(channel)
                    .write("{\"protocol\":1,\"id\":1,\"command\":\"hello\"}\n".getBytes(StandardCharsets.UTF_8));
            String reply = new BufferedReader(
                            new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))
                    .readLine();
            assertEquals(
                    1,
                    Json.mapper().readTree(reply).at("/result/protocol_version").asInt(),
                    reply);
        }
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

    @Test
    void canaryPlantsTimesAndReleasesAndPrintsBothKinds() throws Exception {
        long lockedBefore = SelfMaps.statusKib("VmLck");
        Run json = run("canary", "--pages", "16", "--nonce", "AB".repeat(16), "--json");
        assertEquals(0, json.exitCode(), json.err());
        JsonNode timings = Json.mapper().readTree(json.out());
        assertEquals("ab".repeat(16), timings.get("nonce").asText(), json.out());
        assertEquals(16, timings.at("/canary/page_indices").size());
        assertEquals(16, timings.at("/control/nanos").size());
        assertEquals(16, timings.at("/control/summary/count").asInt());
        assertEquals(lockedBefore, SelfMaps.statusKib("VmLck"), "released before the command returns");

        Run table = run("canary", "--pages", "8");
        assertEquals(0, table.exitCode(), table.err());
        assertTrue(
                table.out().contains("8 canary + 8 control of " + LinuxMemory.pageSizeBytes() + " bytes"), table.out());
        assertTrue(
                table.out().contains("resolution")
                        && table.out().lines().anyMatch(l -> l.matches("canary +8 .*"))
                        && table.out().lines().anyMatch(l -> l.matches("control +8 .*")),
                table.out());
    }

    @Test
    void aBadNonceOrPageCountIsAUsageErrorNamingIt() {
        Run nonce = run("canary", "--nonce", "xyz");
        assertEquals(2, nonce.exitCode());
        assertTrue(nonce.err().contains("--nonce = \"xyz\": expected 32 to 64 hex digits"), nonce.err());
        Run pages = run("canary", "--pages", "5000");
        assertEquals(2, pages.exitCode());
        assertTrue(pages.err().contains("--pages = 5000: expected 1 to "), pages.err());
        Run hold = run("canary", "--hold", "2h");
        assertEquals(2, hold.exitCode());
        assertTrue(hold.err().contains("--hold = 7200000 ms: expected at most 3600000 ms"), hold.err());
    }

    @Test
    void canaryKeepsTheConfiguredHeadroom(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("agent.yaml"), "scrub:\n  min_headroom_bytes: 64T\n");
        Run run = run("canary", "--config", config.toString());
        assertEquals(1, run.exitCode(), run.out());
        assertTrue(
                run.err().contains("refused: MemAvailable")
                        && run.err().contains("would fall under the headroom of 67108864 MiB"),
                run.err());
    }

    /**
     * The real entry point without CAP_IPC_LOCK and with RLIMIT_MEMLOCK at 64 KiB (setpriv and prlimit, as
     * root): locking 2 MiB is refused, and the message says what would allow it.
     */
    @Test
    void withoutCapIpcLockAndUnderALowMemlockLimitTheCanaryIsRefused() throws Exception {
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")),
                "skipped: dropping CAP_IPC_LOCK from a child needs root");
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/prlimit")),
                "skipped: needs setpriv and prlimit (util-linux)");
        Process child = new ProcessBuilder(
                        "/usr/bin/setpriv",
                        "--inh-caps=-ipc_lock",
                        "--bounding-set=-ipc_lock",
                        "--",
                        "/usr/bin/prlimit",
                        "--memlock=65536",
                        "--",
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        AgentMain.class.getName(),
                        "canary",
                        "--pages",
                        "256")
                .redirectErrorStream(true)
                .start();
        String said = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, child.waitFor(), said);
        assertTrue(
                said.contains("memhygiene-agent: error: 256 canary and 256 control pages (")
                        && said.contains(" refused: mlock("),
                said);
        assertTrue(
                said.contains(
                        "locking them needs room under RLIMIT_MEMLOCK"
                                + " (Max locked memory 65536 bytes, VmLck 0 kB; memhygiene-agent.service sets LimitMEMLOCK=8M)"),
                said);
    }
}
