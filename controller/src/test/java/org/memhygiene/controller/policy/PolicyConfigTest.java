package org.memhygiene.controller.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyConfigTest {
    private static final Path SHIPPED = Path.of("src/main/dist/policy.yaml");

    @TempDir
    Path dir;

    private PolicyConfig load(String yaml) throws IOException {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, yaml);
        return PolicyConfig.load(file);
    }

    private String error(String yaml) throws IOException {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, yaml);
        return assertThrows(IllegalArgumentException.class, () -> PolicyConfig.load(file))
                .getMessage();
    }

    @Test
    void theShippedExampleIsExactlyTheDefaults() {
        assertEquals(PolicyConfig.defaults(), PolicyConfig.load(SHIPPED));
    }

    @Test
    void theShippedExampleNamesEveryKey() throws IOException {
        String text = Files.readString(SHIPPED);
        for (String key : new String[] {
            "mode:",
            "interval:",
            "npages_boost:",
            "npages_decay:",
            "npages_min:",
            "npages_max:",
            "sleep_msec:",
            "thres_coef:",
            "thres_const_kib:",
            "memory_tight_below_percent:",
            "memory_plentiful_above_percent:",
            "cpu_budget_percent:",
            "yield_good:",
            "yield_low:",
            "yield_low_intervals:",
            "yield_min_pages_scanned:",
            "pages_to_scan_min:",
            "pages_to_scan_max:",
            "sleep_millisecs_min:",
            "sleep_millisecs_max:",
            "no_yield_retry:",
            "enabled:",
            "min_guest_free_bytes:",
            "max_bytes_per_request:",
            "max_requests_per_decision:",
            "min_interval_per_vm:",
            "reclaim_boost:",
            "disable_smart_scan:",
            "min_growth_percent:",
            "max_full_scans:",
            "max_duration:",
            "init_on_free_min_percent:"
        }) {
            assertEquals(true, text.contains("\n  " + key) || text.contains("\n" + key), key);
        }
    }

    @Test
    void anEmptyFileIsTheDefaults() throws IOException {
        assertEquals(PolicyConfig.defaults(), load("# nothing\n"));
    }

    @Test
    void valuesAreRead() throws IOException {
        PolicyConfig c = load(
                "mode: baseline\ninterval: 30s\nksmtuned:\n  npages_max: 2000\nadaptive:\n"
                        + "  cpu_budget_percent: 2.5\n  no_yield_retry: 1h\nscrub:\n  max_bytes_per_request: 1G\n"
                        + "  enabled: false\n  min_guest_free_bytes: 536870912\nreclaim_boost:\n  disable_smart_scan: false\n"
                        + "  min_growth_percent: 0.5\n  max_full_scans: 20\n  max_duration: 2h\n  init_on_free_min_percent: 0\n");
        assertEquals(PolicyMode.BASELINE, c.mode());
        assertEquals(Duration.ofSeconds(30), c.interval());
        assertEquals(30, c.ksmtuned().monitorIntervalSeconds());
        assertEquals(2000, c.ksmtuned().npagesMax());
        assertEquals(2.5, c.adaptive().cpuBudgetPercent());
        assertEquals(Duration.ofHours(1), c.adaptive().noYieldRetry());
        assertEquals(1L << 30, c.scrub().maxBytesPerRequest());
        assertEquals(512L << 20, c.scrub().minGuestFreeBytes());
        assertEquals(false, c.scrub().enabled());
        assertEquals(new ReclaimBoostConfig(true, false, 0.5, 20, Duration.ofHours(2), 0), c.reclaimBoost());
        assertInstanceOf(BaselinePolicy.class, c.policy());
        assertInstanceOf(AdaptivePolicy.class, PolicyConfig.defaults().policy());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                // unknown keys, at the top and in a section
                "verbose: true|unknown key \"verbose\"; expected one of [mode, interval, ksmtuned, adaptive, scrub, reclaim_boost]",
                "adaptive:\\n  cpu_budget: 5|unknown key \"adaptive.cpu_budget\"; expected one of [adaptive.memory_tight_below_percent",
                // wrong types
                "mode: fast|mode = \"fast\": expected one of [baseline, adaptive, off]",
                "mode: 3|mode = 3: expected one of [baseline, adaptive, off]",
                "interval: 60|interval = 60: expected a duration from 1s to 1h with ms, s, m or h, e.g. 60s or 10m",
                "interval: soon|interval = \"soon\": expected a duration from 1s to 1h",
                "ksmtuned:\\n  npages_boost: lots|ksmtuned.npages_boost = \"lots\": expected a whole number from 0 to 4294967295",
                "adaptive:\\n  yield_low_intervals: 2.5|adaptive.yield_low_intervals = 2.5: expected a whole number from 1 to 1000",
                "adaptive:\\n  cpu_budget_percent: five|adaptive.cpu_budget_percent = \"five\": expected a number from 0.1 to 100",
                "scrub:\\n  enabled: yes please|scrub.enabled = \"yes please\": expected true or false",
                "scrub:\\n  max_bytes_per_request: 5 apples|scrub.max_bytes_per_request = \"5 apples\": expected bytes, at least 1.0 MiB",
                "scrub: []|scrub = []: expected a mapping with the keys [scrub.enabled",
                "reclaim_boost:\\n  disable_smart_scan: 1|reclaim_boost.disable_smart_scan = 1: expected true or false",
                "reclaim_boost:\\n  speed: 2|unknown key \"reclaim_boost.speed\"; expected one of [reclaim_boost.enabled",
                "- a list|the file = [\"a list\"]: expected a mapping",
                // out of range
                "interval: 2h|interval = \"2h\": expected a duration from 1s to 1h",
                "ksmtuned:\\n  thres_coef: 101|ksmtuned.thres_coef = 101: expected a whole number from 0 to 100",
                "ksmtuned:\\n  npages_decay: 50|ksmtuned.npages_decay = 50: expected a whole number from -4294967295 to 0",
                "adaptive:\\n  cpu_budget_percent: 0|adaptive.cpu_budget_percent = 0: expected a number from 0.1 to 100",
                "adaptive:\\n  yield_good: 1.5|adaptive.yield_good = 1.5: expected a number from 0 to 1",
                "adaptive:\\n  pages_to_scan_max: 0|adaptive.pages_to_scan_max = 0: expected a whole number from 1 to 4294967295",
                "scrub:\\n  max_bytes_per_request: 4096|scrub.max_bytes_per_request = 4096: expected bytes, at least 1.0 MiB",
                "reclaim_boost:\\n  min_growth_percent: 101|reclaim_boost.min_growth_percent = 101: expected a number from 0 to 100",
                "reclaim_boost:\\n  max_full_scans: 2|reclaim_boost.max_full_scans = 2: expected a whole number from 3 to 1000",
                "reclaim_boost:\\n  max_duration: 10s|reclaim_boost.max_duration = \"10s\": expected a duration from 60s to 24h",
                "scrub:\\n  max_requests_per_decision: -1|scrub.max_requests_per_decision = -1: expected a whole number from 0 to 1000",
                // fields that must agree
                "adaptive:\\n  pages_to_scan_min: 20000|adaptive.pages_to_scan_min (20000) must not exceed adaptive.pages_to_scan_max (10000)",
                "adaptive:\\n  sleep_millisecs_min: 5000|adaptive.sleep_millisecs_min (5000) must not exceed adaptive.sleep_millisecs_max (2000)",
                "adaptive:\\n  yield_low: 0.5|adaptive.yield_low (0.5) must not exceed adaptive.yield_good (0.05)",
                "adaptive:\\n  memory_tight_below_percent: 50|adaptive.memory_plentiful_above_percent (40) must not be under adaptive.memory_tight_below_percent (50)",
                "ksmtuned:\\n  npages_min: 5000|ksmtuned.npages_min (5000) must not exceed ksmtuned.npages_max (1250)",
                // not YAML, or not one document (the one strict reader, core JsonInput)
                "mode: [unclosed|not YAML",
                "mode: off\\nmode: adaptive|not YAML: duplicate key 'mode' at line 2",
                "ksmtuned:\\n  npages_boost: 1\\n  npages_boost: 2|not YAML: duplicate key 'npages_boost'",
                "mode: off\\n---\\nmode: adaptive|not YAML: trailing content after the document",
                // too large for a long: an error naming the key, never a wrapped value
                "ksmtuned:\\n  npages_max: 18446744073709551716|ksmtuned.npages_max = 18446744073709551716: expected a whole number from 0 to 4294967295",
                "scrub:\\n  min_guest_free_bytes: 99999999999999999999|scrub.min_guest_free_bytes = 99999999999999999999: expected bytes",
            })
    void everyProblemNamesTheKeyTheValueAndWhatWasExpected(String yaml, String expected) throws IOException {
        String message = error(yaml.replace("\\n", "\n"));
        Path file = dir.resolve("policy.yaml");
        assertEquals(true, message.startsWith(file + ": "), message);
        assertEquals(true, message.contains(expected), message);
    }

    @Test
    void aMissingFileIsAnError() {
        Path missing = dir.resolve("missing.yaml");
        String message = assertThrows(IllegalArgumentException.class, () -> PolicyConfig.load(missing))
                .getMessage();
        assertEquals(missing + ": cannot read it: no such file or directory", message);
    }
}
