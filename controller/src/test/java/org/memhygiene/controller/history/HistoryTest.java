package org.memhygiene.controller.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.TestClock;
import org.memhygiene.controller.guestmemory.GuestRamChild;
import org.memhygiene.controller.host.GuestMemorySettings;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.policy.Decision;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.controller.policy.ScrubRequest;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.SysfsTree;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.procmem.ZeroPageOnRead;

/** The history in a real H2 file: real snapshots (test driver, a KSM tree), a restart, retention. */
class HistoryTest {
    @TempDir
    Path dir;

    private final TestClock clock = new TestClock();
    private LinuxHost host;
    private SysfsTree ksm;

    private LinuxHost host() throws Exception {
        String uri = new TestDriverHost()
                .domain("web1", true, Optional.empty(), false)
                .write(dir.resolve("host.xml"));
        ksm = SysfsTree.create(dir).put("pages_sharing", "100").put("ksm_zero_pages", "10");
        host = new LinuxHost(
                uri, Duration.ofSeconds(1), Duration.ZERO, ksm.root(), Path.of("/proc"), Path.of("/sys"), clock);
        return host;
    }

    /** Records a sample and its posture, as the daemon's loop does. */
    private void record(History history) {
        var snapshot = host.snapshot();
        history.record(snapshot, PostureScorer.withoutHostFacts().score(snapshot));
    }

    @AfterEach
    void close() {
        if (host != null) {
            host.close();
        }
    }

    @Test
    void theDatabaseIsItsOwnersAloneAlsoOneAnOlderReleaseLeftReadable() throws Exception {
        Path file = dir.resolve("history");
        Path database = dir.resolve("history.mv.db");
        new History(file, Duration.ofDays(1), Duration.ZERO, clock).close();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(database)));
        Files.setPosixFilePermissions(
                database, PosixFilePermissions.fromString("rw-r--r--")); // umask 022, before issue 13
        new History(file, Duration.ofDays(1), Duration.ZERO, clock).close();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(database)));
        try (var files = Files.list(dir)) {
            assertEquals(
                    List.of(database),
                    files.filter(f -> f.getFileName().toString().startsWith("history"))
                            .toList(),
                    "no trace file or other file beside it");
        }
    }

    @Test
    void samplesSurviveARestartAndComeBackInOrder() throws Exception {
        LinuxHost host = host();
        Path file = dir.resolve("history");
        try (History history = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            record(history);
            clock.now = clock.now.plusSeconds(1);
            ksm.put("pages_sharing", "200");
            record(history);
        }
        try (History reopened = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            List<History.HostPoint> points =
                    reopened.hostSeries(Instant.parse("2026-11-25T09:00:00Z"), clock.now.plusSeconds(1));
            assertEquals(2, points.size());
            assertEquals(OptionalLong.of(100), points.get(0).pagesSharing());
            assertEquals(OptionalLong.of(200), points.get(1).pagesSharing());
            assertEquals(
                    OptionalLong.of(200 * LinuxMemory.pageSizeBytes()),
                    points.get(1).savedBySharingBytes());
            assertEquals(OptionalLong.of(10), points.get(1).ksmZeroPages());
            List<History.VmPoint> vm = reopened.vmSeries("web1", Instant.EPOCH, clock.now.plusSeconds(1));
            assertEquals(2, vm.size());
            assertEquals("NO_CHANNEL", vm.get(0).agentStatus());
            assertEquals(OptionalLong.empty(), vm.get(0).ksmSavedBytes(), "unknown stays unknown, not 0");
            assertEquals(List.of(), reopened.vmSeries("nosuch", Instant.EPOCH, clock.now.plusSeconds(1)));
            // No agent channel (LOW) on a host whose files are not read: 98; the host: KSM off, files not visible: 100.
            assertEquals(OptionalLong.of(98), vm.get(0).postureScore());
            assertEquals(OptionalLong.of(100), points.get(0).postureScore());
        }
    }

    @Test
    void decisionsAreRecordedWithTheirReasonAndSurviveARestart() throws Exception {
        Path file = dir.resolve("history");
        Decision write = new Decision(
                Optional.of(KsmSettings.parse(List.of("run=1", "pages_to_scan=1250"))),
                List.of(new ScrubRequest("uuid-1", "web1", 1L << 30)),
                PolicyMode.ADAPTIVE,
                "memory tight: 8 % available");
        try (History history = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            history.recordDecision(clock.now, write, "applied", "APPLIED");
            history.recordDecision(
                    clock.now.plusSeconds(60),
                    Decision.leaveAsIs(PolicyMode.OFF, "policy off"),
                    "nothing to do",
                    "NOTHING_TO_DO");
        }
        try (History reopened = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            List<History.DecisionPoint> decisions = reopened.decisions(Instant.EPOCH, clock.now.plusSeconds(61));
            assertEquals(
                    List.of(
                            new History.DecisionPoint(
                                    clock.now,
                                    "adaptive",
                                    Map.of("pages_to_scan", 1250L, "run", 1L),
                                    List.of("web1"),
                                    "memory tight: 8 % available",
                                    "applied",
                                    "APPLIED"),
                            new History.DecisionPoint(
                                    clock.now.plusSeconds(60),
                                    "off",
                                    null,
                                    List.of(),
                                    "policy off",
                                    "nothing to do",
                                    "NOTHING_TO_DO")),
                    decisions);
            // One shape for a decision's knobs in every document: the map /api/v1/decisions shows, in write order.
            assertEquals(
                    "{\"pages_to_scan\":1250,\"run\":1}",
                    Json.mapper().valueToTree(decisions.get(0).ksm()).toString());
            assertEquals(
                    Json.mapper().valueToTree(write.ksm().orElseThrow()).toString(),
                    Json.mapper().valueToTree(decisions.get(0).ksm()).toString());
            assertEquals(
                    1,
                    reopened.decisions(clock.now.plusSeconds(1), clock.now.plusSeconds(61))
                            .size(),
                    "[from, to)");
        }
    }

    @Test
    void aDatabaseOfTheFirstSchemaIsMigratedAndKeepsItsRows() throws Exception {
        Path file = dir.resolve("history");
        try (var c = DriverManager.getConnection("jdbc:h2:file:" + file.toAbsolutePath());
                var s = c.createStatement()) {
            s.execute("CREATE TABLE schema_version (version INT NOT NULL)");
            s.execute("CREATE TABLE host_sample (at TIMESTAMP WITH TIME ZONE NOT NULL, pages_sharing BIGINT,"
                    + " ksm_zero_pages BIGINT, saved_by_sharing_bytes BIGINT, saved_by_zero_pages_bytes BIGINT,"
                    + " full_scans BIGINT, mem_available_bytes BIGINT)");
            s.execute("CREATE TABLE vm_sample (at TIMESTAMP WITH TIME ZONE NOT NULL, vm VARCHAR(256) NOT NULL,"
                    + " uuid VARCHAR(64) NOT NULL, ksm_saved_bytes BIGINT, zero_page_bytes BIGINT,"
                    + " balloon_unused_bytes BIGINT, agent_status VARCHAR(32) NOT NULL)");
            s.execute("INSERT INTO schema_version VALUES (1)");
            s.execute(
                    "INSERT INTO host_sample VALUES (TIMESTAMP WITH TIME ZONE '2026-11-25 09:59:00Z', 7, NULL, NULL, NULL, NULL, NULL)");
        }
        LinuxHost host = host();
        try (History history = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            record(history);
            List<History.HostPoint> points = history.hostSeries(Instant.EPOCH, clock.now.plusSeconds(1));
            assertEquals(2, points.size());
            assertEquals(OptionalLong.of(7), points.get(0).pagesSharing(), "the old row is kept");
            assertEquals(OptionalLong.empty(), points.get(0).postureScore(), "and was not scored");
            assertEquals(OptionalLong.of(100), points.get(1).postureScore());
            history.recordDecision(
                    clock.now, Decision.leaveAsIs(PolicyMode.OFF, "off"), "nothing to do", "NOTHING_TO_DO");
            assertEquals(
                    1,
                    history.decisions(Instant.EPOCH, clock.now.plusSeconds(1)).size());
        }
        try (var c = DriverManager.getConnection("jdbc:h2:file:" + file.toAbsolutePath());
                var s = c.createStatement();
                var rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            rs.next();
            assertEquals(History.SCHEMA_VERSION, rs.getInt(1));
        }
    }

    @Test
    void samplesCloserThanTheIntervalAreNotRecorded() throws Exception {
        LinuxHost host = host();
        try (History history = new History(dir.resolve("history"), Duration.ofDays(1), Duration.ofSeconds(10), clock)) {
            for (int second = 0; second < 25; second++) {
                record(history);
                clock.now = clock.now.plusSeconds(1);
            }
            assertEquals(
                    List.of(
                            Instant.parse("2026-11-25T10:00:00Z"),
                            Instant.parse("2026-11-25T10:00:10Z"),
                            Instant.parse("2026-11-25T10:00:20Z")),
                    history.hostSeries(Instant.EPOCH, clock.now).stream()
                            .map(History.HostPoint::at)
                            .toList());
        }
    }

    @Test
    void aProbesMeasurementIsKeptWithTheVmsSamples() throws Exception {
        LinuxHost host = host();
        try (History history = new History(dir.resolve("history"), Duration.ofHours(1), Duration.ZERO, clock)) {
            record(history); // assumed: no probe yet
            clock.now = clock.now.plusSeconds(60);
            Instant measured = clock.now.minusSeconds(1);
            var snapshot = host.snapshot();
            var uuid = snapshot.vms().get(0).domain().uuid();
            DedupProbeReport probe = new DedupProbeReport(
                    "00".repeat(32),
                    16,
                    4096,
                    measured,
                    measured,
                    new DedupProbeReport.KsmAtProbe(1, false, true, true, 3, 3, "3 full scans"),
                    "pagemap+kpageflags",
                    List.of(new DedupProbeReport.VmProbe(
                            "web1",
                            uuid,
                            DedupProbeReport.Outcome.PROBED,
                            "",
                            Optional.of(new DedupProbeReport.HostTruth(16, 16, 16)),
                            Optional.empty(),
                            DedupProbeReport.Verdict.OBSERVED)),
                    List.of());
            history.record(snapshot, new PostureScorer(Optional::empty, () -> Optional.of(probe)).score(snapshot));
            List<History.VmPoint> points = history.vmSeries("web1", Instant.EPOCH, clock.now.plusSeconds(1));
            assertEquals(2, points.size());
            assertEquals(Optional.empty(), points.get(0).crossVmMeasured());
            assertEquals(Optional.of("observed"), points.get(1).crossVmMeasured());
            assertEquals(Optional.of(measured), points.get(1).postureMeasuredAt());
        }
    }

    @Test
    void rowsOlderThanTheRetentionAreDeleted() throws Exception {
        LinuxHost host = host();
        try (History history = new History(dir.resolve("history"), Duration.ofHours(1), Duration.ZERO, clock)) {
            record(history);
            clock.now = clock.now.plus(Duration.ofMinutes(90));
            record(history);
            List<History.HostPoint> points = history.hostSeries(Instant.EPOCH, clock.now.plusSeconds(1));
            assertEquals(1, points.size());
            assertEquals(clock.now, points.get(0).at());
            assertEquals(
                    1,
                    history.vmSeries("web1", Instant.EPOCH, clock.now.plusSeconds(1))
                            .size());
        }
    }

    @Test
    void reclaimedGuestMemoryIsRecordedWithHowAndWhenItWasMeasured() throws Exception {
        long page = LinuxMemory.pageSizeBytes();
        try (GuestRamChild qemu = GuestRamChild.start("-name", "guest=web1")) {
            qemu.map((1024L << 20) / page, false);
            qemu.unique(0, 0, 100, 1);
            qemu.read(0, 100, 400); // the zero page, or resident where a read fault maps none (ZeroPageOnRead)
            qemu.unique(0, 500, 300, 2); // given back after the first sample
            Path pids = Files.createDirectories(dir.resolve("pids"));
            Files.writeString(pids.resolve("web1.pid"), Integer.toString(qemu.pid()));
            String uri = new TestDriverHost()
                    .domain("web1", true, Optional.empty(), false)
                    .write(dir.resolve("host.xml"));
            ksm = SysfsTree.create(dir).put("pages_sharing", "100").put("ksm_zero_pages", "10");
            host = new LinuxHost(
                    uri,
                    Duration.ofSeconds(1),
                    Duration.ZERO,
                    ksm.root(),
                    Path.of("/proc"),
                    Path.of("/sys"),
                    clock,
                    GuestMemorySettings.ONE_SHOT.withQemuPidDir(Optional.of(pids)));
            Path file = dir.resolve("history");
            try (History history = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
                record(history);
                qemu.dontNeed(0, 500, 300);
                clock.now = clock.now.plusSeconds(60);
                record(history);
            }
            long zeroMapped = ZeroPageOnRead.mapsZeroPage() ? 400 * page : 0;
            try (History reopened = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
                History.VmPoint vm = reopened.vmSeries("web1", Instant.EPOCH, clock.now.plusSeconds(1))
                        .get(1);
                assertEquals(OptionalLong.of(zeroMapped + 300 * page), vm.reclaimedBytes(), vm.toString());
                assertEquals(OptionalLong.of(zeroMapped), vm.zeroMappedBytes());
                assertEquals(OptionalLong.of(300 * page), vm.givenBackBytes());
                assertTrue(
                        vm.reclaimedMethod().orElseThrow().startsWith("pagemap_scan")
                                || vm.reclaimedMethod().get().startsWith("pagemap+"),
                        vm.toString());
                assertTrue(vm.reclaimedMeasuredAt().isPresent(), vm.toString());
                History.HostPoint h = reopened.hostSeries(Instant.EPOCH, clock.now.plusSeconds(1))
                        .get(1);
                assertEquals(
                        OptionalLong.of(zeroMapped + 300 * page), h.reclaimedBytes(), "the sum over the host's VMs");
                assertEquals(OptionalLong.of(300 * page), h.givenBackBytes());
            }
        }
    }

    @Test
    void aDatabaseOfTheSecondSchemaIsMigratedAndItsRowsKeepUnknownReclaim() throws Exception {
        Path file = dir.resolve("history");
        try (var c = DriverManager.getConnection("jdbc:h2:file:" + file.toAbsolutePath());
                var s = c.createStatement()) {
            s.execute("CREATE TABLE schema_version (version INT NOT NULL)");
            s.execute("CREATE TABLE host_sample (at TIMESTAMP WITH TIME ZONE NOT NULL, pages_sharing BIGINT,"
                    + " ksm_zero_pages BIGINT, saved_by_sharing_bytes BIGINT, saved_by_zero_pages_bytes BIGINT,"
                    + " full_scans BIGINT, mem_available_bytes BIGINT, posture_score INT)");
            s.execute("CREATE TABLE vm_sample (at TIMESTAMP WITH TIME ZONE NOT NULL, vm VARCHAR(256) NOT NULL,"
                    + " uuid VARCHAR(64) NOT NULL, ksm_saved_bytes BIGINT, zero_page_bytes BIGINT,"
                    + " balloon_unused_bytes BIGINT, agent_status VARCHAR(32) NOT NULL, posture_score INT)");
            s.execute("CREATE TABLE decision (at TIMESTAMP WITH TIME ZONE NOT NULL, mode VARCHAR(16) NOT NULL,"
                    + " ksm VARCHAR(4000) NOT NULL, scrubs VARCHAR(4000) NOT NULL, reason VARCHAR(4000) NOT NULL,"
                    + " outcome VARCHAR(4000) NOT NULL, result VARCHAR(16) NOT NULL)");
            s.execute("INSERT INTO schema_version VALUES (1)");
            s.execute("INSERT INTO schema_version VALUES (2)");
            s.execute(
                    "INSERT INTO vm_sample VALUES (TIMESTAMP WITH TIME ZONE '2026-11-25 09:59:00Z', 'web1', 'u', 4096, 0, NULL,"
                            + " 'OK', 90)");
        }
        host();
        try (History history = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            record(history);
            List<History.VmPoint> points = history.vmSeries("web1", Instant.EPOCH, clock.now.plusSeconds(1));
            assertEquals(2, points.size());
            assertEquals(OptionalLong.of(4096), points.get(0).ksmSavedBytes(), "the old row is kept");
            assertEquals(OptionalLong.empty(), points.get(0).reclaimedBytes(), "not measured then: unknown, not 0");
            assertEquals(Optional.empty(), points.get(0).reclaimedMethod());
            assertEquals(
                    OptionalLong.empty(), points.get(1).reclaimedBytes(), "a test-driver domain has no QEMU process");
        }
    }

    @Test
    void aDatabaseFromANewerReleaseIsRefused() throws Exception {
        Path file = dir.resolve("history");
        new History(file, Duration.ofDays(1), Duration.ZERO, clock).close();
        try (var c = DriverManager.getConnection("jdbc:h2:file:" + file.toAbsolutePath());
                var s = c.createStatement()) {
            s.execute("INSERT INTO schema_version VALUES (" + (History.SCHEMA_VERSION + 1) + ")");
        }
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> new History(file, Duration.ofDays(1), Duration.ZERO, clock));
        assertEquals(true, e.getMessage().contains("newer than this release's"), e.getMessage());
    }
}
