package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.secret.SecretMemory;

/** The daemon's shipped files: its configuration example and its hardened systemd unit. */
class DaemonDistTest {
    static final Path DIST = Path.of("src/main/dist");

    @TempDir
    Path tmp;

    @Test
    void theShippedConfigurationSaysExactlyTheDefaults() {
        assertEquals(DaemonConfig.defaults(), DaemonConfig.load(DIST.resolve("memhygiene.yaml")));
    }

    @Test
    void configurationMistakesNameTheKeyAndWhatWasExpected() throws Exception {
        assertMistake("interval_millis: 10\n", "interval_millis = 10: expected 100 to 3600000 milliseconds");
        // Numbers too large for a long are errors naming their key, not values wrapped into range
        // (2^64 + 100 used to become 100 ms, and the error then named agent_timeout_millis).
        assertMistake(
                "interval_millis: 99999999999999999999\n",
                "interval_millis = 99999999999999999999: expected 100 to 3600000");
        assertMistake(
                "interval_millis: 18446744073709551716\n",
                "interval_millis = 18446744073709551716: expected 100 to 3600000");
        assertMistake(
                "history:\n  retention_millis: 9223372036854775807\n",
                "history.retention_millis = 9223372036854775807: expected 60000 to 315360000000 milliseconds");
        assertMistake(
                "history:\n  interval_millis: 999999999h\n",
                "history.interval_millis = \"999999999h\": expected 0 to 86400000");
        assertMistake("agent_interval_millis: -1\n", "agent_interval_millis = -1: expected 0 to 86400000");
        assertMistake("agent_timeout_millis: 0\n", "agent_timeout_millis = 0: expected 1 to 600000");
        assertMistake(
                "history:\n  interval_millis: soon\n", "history.interval_millis = \"soon\": 'soon' is not a duration");
        assertMistake(
                "api:\n  port: 18446744073709551716\n", "api.port = 18446744073709551716: expected a whole number");
        // The one strict reader (core JsonInput): a key twice, a second document.
        assertMistake(
                "interval_millis: 1s\ninterval_millis: 2s\n", "not YAML: duplicate key 'interval_millis' at line 2");
        assertMistake("dry_run: true\n---\ndry_run: false\n", "not YAML: trailing content after the document");
        assertMistake("api:\n  port: 70000\n", "api.port = 70000: expected a whole number from 0 to 65535");
        assertMistake("api:\n  bnd: 0.0.0.0\n", "unknown key \"api.bnd\"");
        assertMistake("dry_run: maybe\n", "dry_run = \"maybe\": expected true or false");
        assertMistake("interval_millis: soon\n", "'soon' is not a duration");
        assertMistake(
                "guest_memory:\n  method: fast\n",
                "guest_memory.method = \"fast\": expected one of [auto, pagemap, pagemap_scan, smaps_rollup, off]");
        assertMistake("guest_memory:\n  pid_dir: /run\n", "unknown key \"guest_memory.pid_dir\"");
        DaemonConfig measured = DaemonConfig.load(
                Files.writeString(tmp.resolve("gm.yaml"), "guest_memory:\n  method: off\n  qemu_pid_dir: /run/x\n"));
        assertEquals(Optional.empty(), measured.guestMemory().method(), "off: not measured");
        assertEquals(Optional.of(Path.of("/run/x")), measured.guestMemory().qemuPidDir());
        DaemonConfig config = DaemonConfig.load(Files.writeString(
                tmp.resolve("ok.yaml"),
                "libvirt_uri: test:///default\ninterval: 5s\napi:\n  token_file: " + tmp.resolve("token") + "\n"));
        assertEquals(Duration.ofSeconds(5), config.interval());
        IllegalArgumentException noToken = assertThrows(IllegalArgumentException.class, config::apiToken);
        assertEquals(
                "api.token_file " + tmp.resolve("token") + ": cannot read it: no such file or directory",
                noToken.getMessage());
        Path token = Files.writeString(tmp.resolve("token"), "  secret-secret-secret \n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalArgumentException open = assertThrows(IllegalArgumentException.class, config::apiToken);
        assertEquals(
                "api.token_file " + token + " is open to its group or others (rw-r--r--); make it private to its"
                        + " owner: chmod 600 " + token,
                open.getMessage());
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw----r--"));
        assertThrows(IllegalArgumentException.class, config::apiToken, "world-readable only is refused too");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        try (SecretMemory secret = config.apiToken().orElseThrow()) {
            assertTrue(
                    secret.constantTimeEquals("secret-secret-secret".getBytes(StandardCharsets.US_ASCII)),
                    "without the whitespace");
        }
    }

    /**
     * The keys that said milliseconds and took "1s" are now interval, agent_timeout, agent_interval and
     * history's retention and interval, with units; the old names are still read, each with a one-line warning
     * naming the new key and the value to write (issue 14).
     */
    @Test
    void renamedKeysAreReadUnderTheirOldNamesWithADeprecationWarning() throws Exception {
        List<String> warnings = new java.util.ArrayList<>();
        DaemonConfig old = DaemonConfig.load(
                Files.writeString(
                        tmp.resolve("old.yaml"),
                        "interval_millis: 500\nagent_timeout_millis: 3s\nagent_interval_millis: 0\n"
                                + "history:\n  retention_millis: 48h\n  interval_millis: 30000\n"),
                warnings::add);
        DaemonConfig renamed = DaemonConfig.load(
                Files.writeString(
                        tmp.resolve("new.yaml"),
                        "interval: 500ms\nagent_timeout: 3s\nagent_interval: 0s\n"
                                + "history:\n  retention: 48h\n  interval: 30s\n"),
                warning -> {
                    throw new AssertionError("no warning for the new names: " + warning);
                });
        assertEquals(renamed, old);
        assertEquals(Duration.ofMillis(500), renamed.interval());
        assertEquals(Duration.ofHours(48), renamed.historyRetention());
        assertEquals(
                List.of(
                        "interval_millis is deprecated: write interval: 500ms (the same setting, with its unit)",
                        "agent_timeout_millis is deprecated: write agent_timeout: 3s (the same setting, with its unit)",
                        "agent_interval_millis is deprecated: write agent_interval: 0s (the same setting, with its unit)",
                        "history.retention_millis is deprecated: write history.retention: 48h (the same setting, with"
                                + " its unit)",
                        "history.interval_millis is deprecated: write history.interval: 30s (the same setting, with its"
                                + " unit)"),
                warnings);
        assertMistake(
                "interval: 1s\ninterval_millis: 1000\n",
                "interval and interval_millis are the same setting: keep interval");
        assertMistake("interval: 1000\n", "interval = 1000: expected a duration from 100ms to 1h with ms, s, m or h");
        assertMistake("history:\n  retention: 10s\n", "history.retention = \"10s\": expected a duration from 60s to");
    }

    private void assertMistake(String yaml, String expected) throws Exception {
        Path file = Files.writeString(tmp.resolve("bad.yaml"), yaml);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.load(file));
        assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void theUnitVerifiesAndIsHardened() throws Exception {
        String unit = Files.readString(DIST.resolve("memhygiene.service"));
        for (String line : List.of(
                "NoNewPrivileges=yes",
                "ProtectSystem=strict",
                "ProtectHome=yes",
                "PrivateTmp=yes",
                "CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE",
                "PrivateDevices=yes",
                "MemoryMax=400M",
                "IPAddressAllow=localhost",
                "SystemCallFilter=@system-service memfd_secret",
                // the JVM's exit status after a clean stop on SIGTERM (DaemonRunTest asserts it)
                "SuccessExitStatus=143")) {
            assertTrue(unit.lines().anyMatch(line::equals), "missing " + line);
        }
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        if (!Files.isExecutable(analyze)) {
            System.out.println(
                    "DaemonDistTest.theUnitVerifiesAndIsHardened: systemd-analyze not installed, only the lines were checked");
            Assumptions.abort("no systemd-analyze");
        }
        // verify wants ExecStart's program to exist: point it at an executable of the test's own.
        Path program = Files.writeString(tmp.resolve("memhygiene"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path copy = Files.writeString(
                tmp.resolve("memhygiene.service"),
                unit.replace("ExecStart=/opt/memhygiene/bin/memhygiene", "ExecStart=" + program));
        assertEquals("", run(analyze.toString(), "verify", copy.toString()), "systemd-analyze verify");
        String security = run(analyze.toString(), "security", "--offline=yes", copy.toString());
        String overall = security.lines()
                .filter(l -> l.contains("Overall exposure level"))
                .findFirst()
                .orElseThrow();
        double exposure = Double.parseDouble(overall.replaceAll(".*: ([0-9.]+) .*", "$1"));
        System.out.println("memhygiene.service " + overall.strip());
        // systemd 252 rates it 2.7 "OK": root with two capabilities, IP for the API, a writable /sys.
        assertTrue(exposure <= 3.5, overall);
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue() == 0 && command[1].equals("verify") ? output.strip() : output;
    }
}
