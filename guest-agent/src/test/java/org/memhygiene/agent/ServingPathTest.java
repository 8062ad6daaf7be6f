package org.memhygiene.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;

/**
 * The real entry point in its own JVM: serving (every command answered) loads none of picocli, Jackson
 * databind or, without a config file, the YAML parser; those libraries are most of what the agent's idle
 * memory used to be (docs/PERFORMANCE.md "Guest agent: footprint"). Anything that is not only the serving
 * options still goes through picocli, with its usual messages.
 */
class ServingPathTest {
    private static final List<String> NEVER_WHILE_SERVING = List.of("picocli.", "com.fasterxml.jackson.databind.");

    private static ProcessBuilder agent(Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + dir.resolve("classes.log"),
                "-cp",
                System.getProperty("java.class.path"),
                AgentMain.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("output.txt").toFile());
        builder.environment().remove(AgentConfig.ENVIRONMENT_VARIABLE);
        return builder;
    }

    /** Serves with {@code args}, asks every command once and returns the names of the classes loaded. */
    private static List<String> classesWhileServing(Path dir, String... args) throws Exception {
        Path socket = dir.resolve("agent.sock");
        List<String> all = new ArrayList<>(List.of("--listen", "unix:" + socket));
        all.addAll(List.of(args));
        Process process = agent(dir, all.toArray(String[]::new)).start();
        try (SocketChannel channel = TestAgent.connectWhenListening(socket)) {
            OutputStream out = Channels.newOutputStream(channel);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            int id = 0;
            String nonce = "{\"nonce\":\"" + "5a".repeat(16) + "\"}";
            for (String request : List.of(
                    "\"hello\"",
                    "\"stats\"",
                    "\"posture\"",
                    "\"scrub\",\"arguments\":{\"max_bytes\":8388608}",
                    "\"set-policy\",\"arguments\":{\"periodic_interval_millis\":0}",
                    "\"scrub\",\"arguments\":{\"max_bytes\":\"lots\"}",
                    "\"canary-plant\",\"arguments\":" + nonce,
                    "\"canary-time\",\"arguments\":" + nonce,
                    "\"canary-release\",\"arguments\":" + nonce)) {
                out.write(("{\"protocol\":1,\"id\":" + ++id + ",\"command\":" + request + "}\n")
                        .getBytes(StandardCharsets.UTF_8));
                String reply = in.readLine();
                assertTrue(reply != null && reply.startsWith("{\"protocol\":1,\"id\":" + id + ","), reply);
            }
        } finally {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return Files.readAllLines(dir.resolve("classes.log")).stream()
                .filter(line -> line.contains("[class,load]"))
                .map(line -> line.substring(line.indexOf("[class,load]") + 13).split(" ")[0])
                .toList();
    }

    private static void assertNoneLoaded(List<String> loaded, List<String> prefixes) {
        List<String> unwanted = loaded.stream()
                .filter(name -> prefixes.stream().anyMatch(name::startsWith))
                .toList();
        assertEquals(List.of(), unwanted, "loaded while serving");
    }

    @Test
    void servingLoadsNeitherPicocliNorDatabindNorYamlWithoutAConfigFile(@TempDir Path dir) throws Exception {
        List<String> loaded = classesWhileServing(dir);
        assertTrue(loaded.contains("com.fasterxml.jackson.core.JsonFactory"), "the log is complete");
        assertTrue(loaded.contains("com.sun.jna.Native"), "JNA is loaded at start, not at the first scrub");
        assertNoneLoaded(
                loaded,
                List.of(
                        "picocli.",
                        "com.fasterxml.jackson.databind.",
                        "com.fasterxml.jackson.dataformat.",
                        "org.yaml."));
    }

    @Test
    void aConfigFileBringsOnlyTheYamlParser(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("agent.yaml"), "scrub:\n  min_headroom_bytes: 256M\n");
        List<String> loaded = classesWhileServing(dir, "--config=" + config);
        assertTrue(loaded.contains("com.fasterxml.jackson.dataformat.yaml.YAMLParser"), "the file was read");
        assertNoneLoaded(loaded, NEVER_WHILE_SERVING);
    }

    @Test
    void aWarningIsOneLineOfTheJournal(@TempDir Path dir) throws Exception {
        // Under systemd each line of stderr is a journal entry: a record on one line keeps its time, level and
        // source with its message (the JDK's default put the level and message on a second line).
        Path config = Files.writeString(dir.resolve("agent.yaml"), "scrub:\n  periodic_interval_millis: 0\n");
        classesWhileServing(dir, "--config=" + config);
        List<String> said = Files.readAllLines(dir.resolve("output.txt"));
        assertTrue(
                said.stream()
                        .anyMatch(
                                line -> line.matches(
                                        "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d[+-]\\d{4} WARNING"
                                                + " org\\.memhygiene\\.agent\\.AgentConfig: \\Q" + config
                                                + "\\E: scrub\\.periodic_interval_millis is deprecated: write scrub\\.periodic_interval: 0s .*")),
                "the deprecation warning on one line: " + said);
    }

    @Test
    void everythingElseIsPicocliAsBefore(@TempDir Path dir) throws Exception {
        Process badListen = agent(dir, "--listen", "tcp:0.0.0.0:7000").start();
        assertTrue(badListen.waitFor(30, TimeUnit.SECONDS));
        String said = Files.readString(dir.resolve("output.txt"));
        assertEquals(2, badListen.exitValue(), said);
        assertTrue(said.contains("memhygiene-agent: 'tcp:0.0.0.0:7000' is not a listen address"), said);
        assertTrue(said.contains("Run 'memhygiene-agent --help' for usage."), said);

        Process twice = agent(dir, "--listen", "unix:/a", "--listen", "unix:/b").start();
        assertTrue(twice.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, twice.exitValue(), Files.readString(dir.resolve("output.txt")));

        Process help = agent(dir, "--help").start();
        assertTrue(help.waitFor(30, TimeUnit.SECONDS));
        String usage = Files.readString(dir.resolve("output.txt"));
        assertEquals(0, help.exitValue(), usage);
        assertTrue(
                usage.contains("Usage: memhygiene-agent")
                        && usage.contains("--listen=ADDRESS")
                        && usage.contains("scrub"),
                usage);
    }

    @Test
    void listeningOnAPathThatHoldsAFileOrADirectoryIsAnErrorThatLeavesItAlone(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("agent.sock"), "keep me");
        Process onFile = agent(dir, "--listen", "unix:" + file).start();
        assertTrue(onFile.waitFor(30, TimeUnit.SECONDS));
        String said = Files.readString(dir.resolve("output.txt"));
        assertEquals(1, onFile.exitValue(), said);
        assertTrue(
                said.contains(
                        "memhygiene-agent: error: cannot listen on unix:" + file + ": it exists and is a regular file"),
                said);
        assertEquals("keep me", Files.readString(file), "the agent deleted it before issue 13's fix");
        Path directory = Files.createDirectory(dir.resolve("agent.d"));
        Process onDirectory = agent(dir, "--listen", "unix:" + directory).start();
        assertTrue(onDirectory.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, onDirectory.exitValue(), Files.readString(dir.resolve("output.txt")));
        assertTrue(Files.isDirectory(directory), "an empty directory was replaced by the socket before");
    }

    @Test
    void onlyTheServingOptionsAreReadWithoutPicocli() {
        assertEquals(Map.of(), AgentMain.servingOptions(new String[0]));
        assertEquals(
                Map.of("--listen", "unix:/s", "--config", "/c.yaml"),
                AgentMain.servingOptions(new String[] {"--listen", "unix:/s", "--config=/c.yaml"}));
        for (String[] other : List.of(
                new String[] {"scrub"},
                new String[] {"--help"},
                new String[] {"--listen"},
                new String[] {"--listen", "--config"},
                new String[] {"--listen", "@args"},
                new String[] {"--listen="},
                new String[] {"--listen", "a", "--listen", "b"},
                new String[] {"--config", "c", "posture"})) {
            assertEquals(null, AgentMain.servingOptions(other), String.join(" ", other));
        }
    }
}
