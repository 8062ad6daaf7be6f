package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.secret.HeapSearch;
import org.memhygiene.secret.SecretMemory;

/**
 * The API token in production: read from api.token_file into secret memory, logged with the protection it
 * got, compared from there, in no Java object of the daemon, released when the daemon stops. The daemon runs
 * in this JVM on libvirt's test driver and this machine's KSM, in dry run (it writes nothing).
 */
class ApiTokenTest {
    @TempDir
    Path dir;

    private DaemonConfig config(Path tokenFile) {
        DaemonConfig d = DaemonConfig.defaults();
        return new DaemonConfig(
                "test:///default",
                Duration.ofSeconds(1),
                d.agentTimeout(),
                d.agentInterval(),
                "127.0.0.1",
                0,
                Optional.of(tokenFile),
                true,
                dir.resolve("history"),
                d.historyRetention(),
                d.historyInterval(),
                Optional.empty());
    }

    @Test
    void aTokenFileThatHoldsNoUsableTokenIsRefusedNamingIt() throws IOException {
        Path token = dir.resolve("token");
        Files.writeString(token, "");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        assertEquals(
                "api.token_file " + token + " is empty: expected a secret",
                assertThrows(IllegalArgumentException.class, config(token)::apiToken)
                        .getMessage());
        Files.writeString(token, "\n");
        assertEquals(
                "api.token_file " + token + " holds only whitespace: expected a secret",
                assertThrows(IllegalArgumentException.class, config(token)::apiToken)
                        .getMessage());
        Files.writeString(token, "x".repeat(4097));
        assertEquals(
                "api.token_file " + token + " has 4097 bytes: expected a secret of at most 4096 bytes",
                assertThrows(IllegalArgumentException.class, config(token)::apiToken)
                        .getMessage());
    }

    @Test
    void theDaemonHoldsItsTokenInSecretMemoryComparesItThereAndReleasesIt() throws Exception {
        Path token = HeapSearch.randomHexToken(dir.resolve("api-token"));
        String expectedProtection;
        try (SecretMemory sameSize = new SecretMemory(48)) {
            expectedProtection = sameSize.protection().summary(); // what this kernel gives a 48-byte secret
        }
        Logger daemonLog = Logger.getLogger(Daemon.class.getName());
        List<String> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        daemonLog.addHandler(capture);
        long vmLckBeforeKib = vmLckKib();
        DaemonConfig settings = config(token);
        try (Daemon daemon = Daemon.start(
                LinuxHost.of(settings.libvirtUri(), settings.agentTimeout(), settings.agentInterval()),
                settings,
                true,
                Clock.systemUTC())) {
            assertTrue(
                    logged.contains("api.token_file " + token + ": the token is held in " + expectedProtection),
                    logged.toString());
            assertEquals(
                    vmLckBeforeKib + LinuxMemory.pageSizeBytes() / 1024, vmLckKib(), "one locked page holds the token");
            assertFalse(HeapSearch.heapHolds(token, dir), "the token is in no Java object of the daemon");

            URI policy = URI.create("http://127.0.0.1:" + daemon.apiPort() + "/api/v1/policy");
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest.Builder off = HttpRequest.newBuilder(policy)
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"mode\": \"off\"}"));
            String bearer = "Bearer "
                    + Files.readString(token, StandardCharsets.US_ASCII).strip();
            assertEquals(
                    401,
                    http.send(
                                    off.copy()
                                            .header("Authorization", bearer + "0")
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode(),
                    "a wrong token");
            HttpResponse<String> right =
                    http.send(off.copy().header("Authorization", bearer).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, right.statusCode(), right.body());
        } finally {
            daemonLog.removeHandler(capture);
        }
        assertEquals(vmLckBeforeKib, vmLckKib(), "stopping the daemon released the token's page");
    }

    private static long vmLckKib() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmLck:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst()
                .orElseThrow();
    }
}
