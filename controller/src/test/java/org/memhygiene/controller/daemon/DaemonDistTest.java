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
        assertMistake("interval_millis: 10\n", "interval_millis = 10: expected at least 100 ms");
        assertMistake("api:\n  port: 70000\n", "api.port = 70000: expected 0 to 65535");
        assertMistake("api:\n  bnd: 0.0.0.0\n", "unknown key \"api.bnd\"");
        assertMistake("dry_run: maybe\n", "dry_run = \"maybe\": expected true or false");
        assertMistake("interval_millis: soon\n", "'soon' is not a duration");
        assertMistake("guest_memory:\n  method: fast\n",
                "guest_memory.method = \"fast\": expected one of [auto, pagemap, pagemap_scan, smaps_rollup, off]");
        assertMistake("guest_memory:\n  pid_dir: /run\n", "unknown key \"guest_memory.pid_dir\"");
        DaemonConfig measured = DaemonConfig.load(Files.writeString(tmp.resolve("gm.yaml"),
                "guest_memory:\n  method: off\n  qemu_pid_dir: /run/x\n"));
        assertEquals(java.util.Optional.empty(), measured.guestMemory().method(), "off: not measured");
        assertEquals(java.util.Optional.of(Path.of("/run/x")), measured.guestMemory().qemuPidDir());
        DaemonConfig config = DaemonConfig.load(Files.writeString(tmp.resolve("ok.yaml"),
                "libvirt_uri: test:///default\ninterval_millis: 5s\napi:\n  token_file: " + tmp.resolve("token") + "\n"));
        assertEquals(Duration.ofSeconds(5), config.interval());
        IllegalArgumentException noToken = assertThrows(IllegalArgumentException.class, config::apiToken);
        assertTrue(noToken.getMessage().contains("cannot read it"), noToken.getMessage());
        Files.writeString(tmp.resolve("token"), "  secret-secret-secret \n");
        try (SecretMemory token = config.apiToken().orElseThrow()) {
            assertTrue(token.constantTimeEquals("secret-secret-secret".getBytes(StandardCharsets.US_ASCII)), "without the whitespace");
        }
    }

    private void assertMistake(String yaml, String expected) throws Exception {
        Path file = Files.writeString(tmp.resolve("bad.yaml"), yaml);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DaemonConfig.load(file));
        assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void theUnitVerifiesAndIsHardened() throws Exception {
        String unit = Files.readString(DIST.resolve("memhygiene.service"));
        for (String line : List.of("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                "CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE", "PrivateDevices=yes", "MemoryMax=400M",
                "IPAddressAllow=localhost", "SystemCallFilter=@system-service memfd_secret")) {
            assertTrue(unit.lines().anyMatch(line::equals), "missing " + line);
        }
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        if (!Files.isExecutable(analyze)) {
            System.out.println("DaemonDistTest.theUnitVerifiesAndIsHardened: systemd-analyze not installed, only the lines were checked");
            Assumptions.abort("no systemd-analyze");
        }
        // verify wants ExecStart's program to exist: point it at an executable of the test's own.
        Path program = Files.writeString(tmp.resolve("memhygiene"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path copy = Files.writeString(tmp.resolve("memhygiene.service"),
                unit.replace("ExecStart=/opt/memhygiene/bin/memhygiene", "ExecStart=" + program));
        assertEquals("", run(analyze.toString(), "verify", copy.toString()), "systemd-analyze verify");
        String security = run(analyze.toString(), "security", "--offline=yes", copy.toString());
        String overall = security.lines().filter(l -> l.contains("Overall exposure level")).findFirst().orElseThrow();
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
