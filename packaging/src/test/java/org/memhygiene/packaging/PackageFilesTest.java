package org.memhygiene.packaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.AgentCommand;
import picocli.CommandLine.Model.CommandSpec;

class PackageFilesTest {
    private static final Path UNIT = Path.of("memhygiene.service");

    @Test
    void execStartMovesToThePackagedLauncherAndNothingElseChanges() {
        String unit =
                "[Service]\n# ExecStart=/opt/x/bin/x is the source tree's\nExecStart=/opt/x/bin/x run --config /etc/x.yaml\nRestart=on-failure\n";
        assertEquals(
                "[Service]\n# ExecStart=/opt/x/bin/x is the source tree's\nExecStart=/usr/bin/x run --config /etc/x.yaml\nRestart=on-failure\n",
                PackageFiles.relocateExecStart(unit, "/opt/x/bin/x", "/usr/bin/x", UNIT));
    }

    @Test
    void aUnitWhoseExecStartMovedFailsTheBuildNamingTheFile() {
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> PackageFiles.relocateExecStart(
                        "[Service]\nExecStart=/usr/local/bin/x\n", "/opt/x/bin/x", "/usr/bin/x", UNIT));
        assertTrue(
                e.getMessage().contains("memhygiene.service") && e.getMessage().contains("ExecStart=/opt/x/bin/x"),
                e.getMessage());
    }

    @Test
    void gzipIsMaximallyCompressedWithoutNameOrTimeAndReadsBack(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("page.1.gz");
        String text = ".TH \"X\" \"1\"\n".repeat(100);
        Gzip.write(file, text);
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(
                new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 2, 3},
                Arrays.copyOf(bytes, 10),
                "magic, deflate, no FNAME, mtime 0, XFL=2 (best), OS=Unix");
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            assertEquals(text, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void theAgentsPagesAreSection8WithExitCodesFilesAndSeeAlso() {
        CommandSpec agent = AgentCommand.commandLine().getCommandSpec();
        String root = ManPages.asciidoc(agent, 8, Map.of("/etc/memhygiene/agent.yaml", "The configuration."));
        assertTrue(root.contains("\n= memhygiene-agent(8)\n"), root);
        assertTrue(root.contains("== Exit status") && root.contains("*2*:: A usage error"), root);
        assertTrue(root.contains("== Files\n\n_/etc/memhygiene/agent.yaml_::\n  The configuration."), root);
        assertTrue(
                root.contains(
                        "== See also\n\n*memhygiene-agent-scrub*(8), *memhygiene-agent-posture*(8), *memhygiene-agent-canary*(8)\n"),
                root);
        String posture = ManPages.asciidoc(agent.subcommands().get("posture").getCommandSpec(), 8, Map.of());
        assertTrue(
                posture.contains("\n= memhygiene-agent-posture(8)\n")
                        && posture.contains("== See also\n\n*memhygiene-agent*(8)\n"),
                posture);
        assertEquals(4, ManPages.pages(agent).size(), "the agent, scrub, posture, canary; not picocli's help");
    }
}
