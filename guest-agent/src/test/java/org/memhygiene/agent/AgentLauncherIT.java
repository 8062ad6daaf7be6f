package org.memhygiene.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.core.json.Json;

/** bin/memhygiene-agent from the packaged jar, started from an unrelated working directory. */
class AgentLauncherIT {
    private static final Path LAUNCHER = Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath()
            .getParent()
            .resolve("bin/memhygiene-agent");

    @TempDir
    Path elsewhere;

    private Process start(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(elsewhere.toFile())
                .redirectOutput(elsewhere.resolve("out.txt").toFile())
                .redirectError(elsewhere.resolve("err.txt").toFile());
        builder.environment().remove(AgentConfig.ENVIRONMENT_VARIABLE);
        return builder.start();
    }

    @Test
    void helpPrintsWithoutPicocliWarnings() throws Exception {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"scrub", "--help"})) {
            Process help = start(args);
            assertTrue(help.waitFor(60, TimeUnit.SECONDS), "help finishes");
            String out = Files.readString(elsewhere.resolve("out.txt"));
            String err = Files.readString(elsewhere.resolve("err.txt"));
            assertEquals(0, help.exitValue(), err);
            assertEquals("", err, "nothing on stderr for " + List.of(args));
            // A lone % in a description makes picocli fall back to the raw text; escaped, it prints one.
            assertTrue(out.replaceAll("\\s+", " ").contains("10% of MemTotal"), out);
            assertFalse(out.contains("%%"), out);
        }
    }

    @Test
    void helloReportsTheJarsVersion() throws Exception {
        String version = System.getProperty("memhygiene.version");
        assertNotNull(version, "the build passes memhygiene.version (pom.xml, failsafe)");
        Path socket = elsewhere.resolve("agent.sock");
        Process agent = start("--listen", "unix:" + socket);
        try (SocketChannel channel = TestAgent.connectWhenListening(socket)) {
            OutputStream out = Channels.newOutputStream(channel);
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            out.write("{\"protocol\":1,\"id\":1,\"command\":\"hello\"}\n".getBytes(StandardCharsets.UTF_8));
            JsonNode reply = Json.mapper().readTree(in.readLine());
            assertEquals(version, reply.at("/result/agent_version").asText(), reply.toString());
        } finally {
            agent.destroy();
            agent.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
