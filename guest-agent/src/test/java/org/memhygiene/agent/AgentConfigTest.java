package org.memhygiene.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
                  periodic_interval: 10m
                  large_free_threshold_bytes: 536870912
                """);
        AgentConfig config = AgentConfig.load(file, warning -> {
            throw new AssertionError("no warning for the current names: " + warning);
        });
        assertEquals("unix:/run/agent.sock", config.listen());
        ScrubConfig scrub = config.scrub();
        assertEquals(1024 * MIB, scrub.minHeadroomBytes());
        assertEquals(600_000, scrub.periodicIntervalMillis());
        assertEquals(512 * MIB, scrub.largeFreeThresholdBytes());
        assertEquals(ScrubConfig.defaults().maxRateBytesPerSecond(), scrub.maxRateBytesPerSecond());
    }

    /** The durations that said milliseconds are periodic_interval and large_free_sample; the old names still work. */
    @Test
    void theOldMillisecondNamesAreReadWithADeprecationWarning() throws Exception {
        List<String> warnings = new ArrayList<>();
        AgentConfig old = AgentConfig.load(
                Files.writeString(
                        dir.resolve("old.yaml"),
                        "scrub:\n  periodic_interval_millis: 600000\n  large_free_sample_millis: 2s\n"),
                warnings::add);
        assertEquals(600_000, old.scrub().periodicIntervalMillis());
        assertEquals(2_000, old.scrub().largeFreeSampleMillis());
        assertEquals(
                List.of(
                        "scrub.periodic_interval_millis is deprecated: write scrub.periodic_interval: 600s (the same"
                                + " setting, with its unit)",
                        "scrub.large_free_sample_millis is deprecated: write scrub.large_free_sample: 2s (the same"
                                + " setting, with its unit)"),
                warnings);
        assertMessage(
                "scrub:\n  periodic_interval: 10m\n  periodic_interval_millis: 600000\n",
                "scrub.periodic_interval and scrub.periodic_interval_millis are the same setting");
    }

    @Test
    void anEmptyFileIsTheDefaults() throws Exception {
        assertEquals(AgentConfig.defaults(), AgentConfig.load(Files.writeString(dir.resolve("a.yaml"), "# nothing\n")));
    }

    @Test
    void everyMistakeNamesTheFileTheKeyAndWhatWasExpected() throws Exception {
        assertMessage("scrub:\n  min_headroom_bytes: 1M\n", "min_headroom_bytes = 1048576: expected at least 33554432");
        assertMessage("scrub:\n  max_rate: 1G\n", "unknown key \"scrub.max_rate\"");
        assertMessage("scrub:\n  periodic_interval_millis: soon\n", "'soon' is not a duration");
        assertMessage(
                "scrub:\n  min_headroom_bytes: lots\n",
                "scrub.min_headroom_bytes = \"lots\": expected bytes, at least 0 B, e.g. 536870912 or 512M");
        assertMessage(
                "scrub:\n  periodic_interval: 600\n",
                "scrub.periodic_interval = 600: expected a duration from 0s to 8760h with ms, s, m or h");
        assertMessage("lisen: /dev/x\n", "unknown key \"lisen\"");
        assertMessage("listen: [1, 2]\n", "listen = [1,2]: expected");
        assertMessage("scrub: [\n", "not YAML");
        // The one strict reader (core JsonInput): a key twice, a second document, bytes that are not UTF-8.
        assertMessage(
                "scrub:\n  min_headroom_bytes: 1G\n  min_headroom_bytes: 2G\n",
                "not YAML: duplicate key 'min_headroom_bytes'");
        assertMessage("listen: unix:/a\n---\nlisten: unix:/b\n", "not YAML: trailing content after the document");
        // Numbers are range-checked before they are narrowed: 2^32 + 10 must not become 10 percent.
        assertMessage(
                "scrub:\n  headroom_percent_of_total: 4294967306\n",
                "headroom_percent_of_total = 4294967306: expected a whole number from 0 to 100");
        assertMessage(
                "scrub:\n  periodic_interval_millis: 99999999999999999999\n",
                "periodic_interval_millis = 99999999999999999999: expected 0 to 31536000000 milliseconds");
        assertMessage(
                "scrub:\n  periodic_interval_millis: 9999999999999\n",
                "periodic_interval_millis = 9999999999999: expected 0 to");
        assertMessage(
                "scrub:\n  large_free_threshold_bytes: -1\n",
                "large_free_threshold_bytes = -1: expected bytes, at least 0 B");
        Path latin1 = Files.write(
                dir.resolve("latin1.yaml"), new byte[] {'l', 'i', 's', 't', 'e', 'n', ':', ' ', (byte) 0xe9, '\n'});
        IllegalArgumentException notUtf8 = assertThrows(IllegalArgumentException.class, () -> AgentConfig.load(latin1));
        assertEquals(
                latin1 + ": not YAML: not UTF-8: byte 8 (0xe9) is not part of a valid UTF-8 sequence",
                notUtf8.getMessage());
        Path missing = dir.resolve("missing.yaml");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentConfig.load(missing));
        assertEquals(missing + ": cannot read it: no such file or directory", e.getMessage());
    }

    private void assertMessage(String yaml, String expected) throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), yaml);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentConfig.load(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
