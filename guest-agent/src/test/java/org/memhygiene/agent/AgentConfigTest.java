package org.memhygiene.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.scrub.ScrubConfig;

class AgentConfigTest {
    private static final long MIB = 1024 * 1024;
    @TempDir
    Path dir;

    @Test
    void theShippedExampleSaysExactlyTheDefaults() {
        // agent.yaml documents the defaults; if one of them drifts from ScrubConfig.defaults() this fails.
        AgentConfig shipped = AgentConfig.load(Path.of("src/main/dist/agent.yaml"));
        assertEquals(AgentConfig.defaults(), shipped);
    }

    @Test
    void sizesAndDurationsTakeUnitsAndUnsetKeysKeepTheirDefaults() throws Exception {
        Path file = Files.writeString(dir.resolve("agent.yaml"), """
                listen: unix:/run/agent.sock
                scrub:
                  min_headroom_bytes: 1G
                  periodic_interval_millis: 10m
                  large_free_threshold_bytes: 536870912
                """);
        AgentConfig config = AgentConfig.load(file);
        assertEquals("unix:/run/agent.sock", config.listen());
        ScrubConfig scrub = config.scrub();
        assertEquals(1024 * MIB, scrub.minHeadroomBytes());
        assertEquals(600_000, scrub.periodicIntervalMillis());
        assertEquals(512 * MIB, scrub.largeFreeThresholdBytes());
        assertEquals(ScrubConfig.defaults().maxRateBytesPerSecond(), scrub.maxRateBytesPerSecond());
    }

    @Test
    void anEmptyFileIsTheDefaults() throws Exception {
        assertEquals(AgentConfig.defaults(), AgentConfig.load(Files.writeString(dir.resolve("a.yaml"), "# nothing\n")));
    }

    @Test
    void everyMistakeNamesTheFileTheKeyAndWhatWasExpected() throws Exception {
        assertMessage("scrub:\n  min_headroom_bytes: 1M\n", "min_headroom_bytes = 1048576: expected at least 33554432");
        assertMessage("scrub:\n  max_rate: 1G\n", "unknown scrub policy field \"max_rate\"");
        assertMessage("scrub:\n  periodic_interval_millis: soon\n", "'soon' is not a duration");
        assertMessage("scrub:\n  min_headroom_bytes: lots\n", "'lots' is not a size");
        assertMessage("lisen: /dev/x\n", "unknown key \"lisen\"");
        assertMessage("listen: [1, 2]\n", "listen = [1,2]: expected");
        assertMessage("scrub: [\n", "not YAML");
        Path missing = dir.resolve("missing.yaml");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentConfig.load(missing));
        assertTrue(e.getMessage().startsWith(missing + ": cannot read it"), e.getMessage());
    }

    private void assertMessage(String yaml, String expected) throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), yaml);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentConfig.load(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
