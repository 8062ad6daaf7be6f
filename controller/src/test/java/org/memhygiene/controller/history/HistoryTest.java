package org.memhygiene.controller.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.TestClock;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.ksm.SysfsTree;
import org.memhygiene.core.linux.LinuxMemory;

/** The history in a real H2 file: real snapshots (test driver, a KSM tree), a restart, retention. */
class HistoryTest {
    @TempDir
    Path dir;
    private final TestClock clock = new TestClock();
    private LinuxHost host;
    private SysfsTree ksm;

    private LinuxHost host() throws Exception {
        String uri = new TestDriverHost().domain("web1", true, Optional.empty(), false).write(dir.resolve("host.xml"));
        ksm = SysfsTree.create(dir).put("pages_sharing", "100").put("ksm_zero_pages", "10");
        host = new LinuxHost(uri, Duration.ofSeconds(1), Duration.ZERO, ksm.root(), Path.of("/proc"), clock);
        return host;
    }

    @AfterEach
    void close() {
        if (host != null) {
            host.close();
        }
    }

    @Test
    void samplesSurviveARestartAndComeBackInOrder() throws Exception {
        LinuxHost host = host();
        Path file = dir.resolve("history");
        try (History history = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            history.record(host.snapshot());
            clock.now = clock.now.plusSeconds(1);
            ksm.put("pages_sharing", "200");
            history.record(host.snapshot());
        }
        try (History reopened = new History(file, Duration.ofDays(7), Duration.ZERO, clock)) {
            List<History.HostPoint> points = reopened.hostSeries(Instant.parse("2026-11-25T09:00:00Z"), clock.now.plusSeconds(1));
            assertEquals(2, points.size());
            assertEquals(OptionalLong.of(100), points.get(0).pagesSharing());
            assertEquals(OptionalLong.of(200), points.get(1).pagesSharing());
            assertEquals(OptionalLong.of(200 * LinuxMemory.pageSizeBytes()), points.get(1).savedBySharingBytes());
            assertEquals(OptionalLong.of(10), points.get(1).ksmZeroPages());
            List<History.VmPoint> vm = reopened.vmSeries("web1", Instant.EPOCH, clock.now.plusSeconds(1));
            assertEquals(2, vm.size());
            assertEquals("NO_CHANNEL", vm.get(0).agentStatus());
            assertEquals(OptionalLong.empty(), vm.get(0).ksmSavedBytes(), "unknown stays unknown, not 0");
            assertEquals(List.of(), reopened.vmSeries("nosuch", Instant.EPOCH, clock.now.plusSeconds(1)));
        }
    }

    @Test
    void samplesCloserThanTheIntervalAreNotRecorded() throws Exception {
        LinuxHost host = host();
        try (History history = new History(dir.resolve("history"), Duration.ofDays(1), Duration.ofSeconds(10), clock)) {
            for (int second = 0; second < 25; second++) {
                history.record(host.snapshot());
                clock.now = clock.now.plusSeconds(1);
            }
            assertEquals(List.of(Instant.parse("2026-11-25T10:00:00Z"), Instant.parse("2026-11-25T10:00:10Z"),
                    Instant.parse("2026-11-25T10:00:20Z")), history.hostSeries(Instant.EPOCH, clock.now).stream()
                    .map(History.HostPoint::at).toList());
        }
    }

    @Test
    void rowsOlderThanTheRetentionAreDeleted() throws Exception {
        LinuxHost host = host();
        try (History history = new History(dir.resolve("history"), Duration.ofHours(1), Duration.ZERO, clock)) {
            history.record(host.snapshot());
            clock.now = clock.now.plus(Duration.ofMinutes(90));
            history.record(host.snapshot());
            List<History.HostPoint> points = history.hostSeries(Instant.EPOCH, clock.now.plusSeconds(1));
            assertEquals(1, points.size());
            assertEquals(clock.now, points.get(0).at());
            assertEquals(1, history.vmSeries("web1", Instant.EPOCH, clock.now.plusSeconds(1)).size());
        }
    }

    @Test
    void aDatabaseFromANewerReleaseIsRefused() throws Exception {
        Path file = dir.resolve("history");
        new History(file, Duration.ofDays(1), Duration.ZERO, clock).close();
        try (var c = java.sql.DriverManager.getConnection("jdbc:h2:file:" + file.toAbsolutePath());
                var s = c.createStatement()) {
            s.execute("INSERT INTO schema_version VALUES (" + (History.SCHEMA_VERSION + 1) + ")");
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new History(file, Duration.ofDays(1), Duration.ZERO, clock));
        assertEquals(true, e.getMessage().contains("newer than this release's"), e.getMessage());
    }
}
