package org.memhygiene.controller.history;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.controller.policy.Decision;
import org.memhygiene.controller.policy.ScrubRequest;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSavings;
import org.memhygiene.core.ksm.KsmSettings;

/**
 * The daemon's history in an embedded H2 database file (docs/HISTORY.md): one row per host sample and
 * one per VM per sample (with their posture scores), one per policy decision, kept for {@code retention}.
 * It survives restarts; the schema carries a version, and a database of an older version is migrated
 * when opened. One writer (the loop) and concurrent readers (the API) are serialized on this object.
 */
public final class History implements AutoCloseable {
    /**
     * 1: host_sample and vm_sample; 2: their posture_score columns and the decision table; 3: reclaimed guest
     * memory (docs/RECLAIM.md) with how and when it was measured; 4: the VM's cross-VM exposure as a
     * deduplication probe measured it (docs/POSTURE.md, "The deduplication canary").
     */
    static final int SCHEMA_VERSION = 4;

    private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);

    /**
     * One host sample; null-free: a figure that was not known (or recorded before the schema had it) is empty.
     * The reclaimed figures are the sums over the VMs whose guest memory was measured by page states
     * (docs/RECLAIM.md); empty when none was.
     */
    public record HostPoint(
            Instant at,
            OptionalLong pagesSharing,
            OptionalLong ksmZeroPages,
            OptionalLong savedBySharingBytes,
            OptionalLong savedByZeroPagesBytes,
            OptionalLong fullScans,
            OptionalLong memAvailableBytes,
            OptionalLong postureScore,
            OptionalLong reclaimedBytes,
            OptionalLong zeroMappedBytes,
            OptionalLong givenBackBytes,
            OptionalLong ksmSharingSavedBytes) {}

    /**
     * One VM in one sample. {@code ksmSavedBytes} and {@code zeroPageBytes} are KSM-accounted (ksm_stat); the
     * reclaimed figures come from its guest memory's latest pass, {@code reclaimedMethod} says how
     * (GuestMemory.methodDescription) and {@code reclaimedMeasuredAt} when. {@code crossVmMeasured} is
     * {@code observed} or {@code not_observed} while a deduplication probe's measurement stood for the VM's posture
     * ({@code postureMeasuredAt}: when it measured), empty while the posture assumed it.
     */
    public record VmPoint(
            Instant at,
            String vm,
            String uuid,
            OptionalLong ksmSavedBytes,
            OptionalLong zeroPageBytes,
            OptionalLong balloonUnusedBytes,
            String agentStatus,
            OptionalLong postureScore,
            OptionalLong reclaimedBytes,
            OptionalLong zeroMappedBytes,
            OptionalLong givenBackBytes,
            OptionalLong ksmSharingSavedBytes,
            Optional<String> reclaimedMethod,
            Optional<Instant> reclaimedMeasuredAt,
            Optional<String> crossVmMeasured,
            Optional<Instant> postureMeasuredAt) {}

    /**
     * One policy decision (docs/POLICY.md).
     *
     * @param ksm    the knobs it set as "knob=value ...", empty when it left KSM as it was
     * @param scrubs the names of the VMs it asked to scrub
     * @param result APPLIED, NOTHING_TO_DO, DRY_RUN or FAILED
     */
    public record DecisionPoint(
            Instant at,
            String mode,
            Map<String, Object> ksm,
            List<String> scrubs,
            String reason,
            String outcome,
            String result) {}

    private static final int MAX_TEXT = 4000;

    private final Connection connection;
    private final Duration retention;
    private final Duration interval;
    private final Clock clock;
    private Instant prunedAt = Instant.MIN;
    private Instant recordedAt = Instant.MIN;

    /**
     * Opens (creating if needed) the database {@code file}.mv.db.
     *
     * @param interval a sample less than this after the last recorded one is not recorded: the history's
     *                 resolution (a row per VM per second for a week would be 30 million rows for 50 VMs)
     */
    public History(Path file, Duration retention, Duration interval, Clock clock) {
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("history retention must be positive, was " + retention);
        }
        this.retention = retention;
        this.interval = interval;
        this.clock = clock;
        try {
            // A 4 MiB page cache (H2's default is 16 MiB): the daemon appends and reads recent ranges. Commits
            // are written within 10 s (H2's default: 0.5 s), so its background writer wakes every 3.3 s, not 6
            // times a second (docs/PERFORMANCE.md); a crash can lose the last recorded sample, no more.
            // No trace file (TRACE_LEVEL_FILE=0): H2's errors reach the daemon as SQLExceptions, and a trace
            // file would be one more file beside the database to keep private.
            connection = DriverManager.getConnection("jdbc:h2:file:" + file.toAbsolutePath()
                    + ";DB_CLOSE_ON_EXIT=FALSE;CACHE_SIZE=4096;WRITE_DELAY=10000;TRACE_LEVEL_FILE=0");
            makePrivate(Path.of(file.toAbsolutePath() + ".mv.db"));
            migrate();
            // One transaction per sample: 51 rows for 50 VMs cost one commit, not 51.
            connection.setAutoCommit(false);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the history database " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The database is the owner's alone (0600), also a file an older release created under a looser umask:
     * it holds what VMs ran and what their guests reported.
     */
    private void makePrivate(Path database) throws SQLException {
        try {
            Files.setPosixFilePermissions(database, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            connection.close();
            throw new SQLException("cannot make it private (chmod 600 " + database + "): " + e.getMessage(), e);
        }
    }

    private void migrate() throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL)");
            int version;
            try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                rs.next();
                version = rs.getInt(1);
            }
            if (version > SCHEMA_VERSION) {
                throw new SQLException(
                        "the database has schema version " + version + ", newer than this release's " + SCHEMA_VERSION);
            }
            if (version == SCHEMA_VERSION) {
                return;
            }
            if (version == 0) {
                createVersion1(s);
            }
            if (version < 2) {
                // 1 -> 2: posture scores with the samples, and the policy's decisions.
                s.execute("ALTER TABLE host_sample ADD COLUMN posture_score INT");
                s.execute("ALTER TABLE vm_sample ADD COLUMN posture_score INT");
                s.execute("CREATE TABLE decision (at TIMESTAMP WITH TIME ZONE NOT NULL, mode VARCHAR(16) NOT NULL,"
                        + " ksm VARCHAR(" + MAX_TEXT + ") NOT NULL, scrubs VARCHAR(" + MAX_TEXT + ") NOT NULL,"
                        + " reason VARCHAR(" + MAX_TEXT + ") NOT NULL, outcome VARCHAR(" + MAX_TEXT + ") NOT NULL,"
                        + " result VARCHAR(16) NOT NULL)");
                s.execute("CREATE INDEX decision_at ON decision (at)");
            }
            if (version < 3) {
                // 2 -> 3: reclaimed guest memory, measured page by page; older rows keep NULLs (not known then).
                migrateTo3(s);
            }
            // 3 -> 4: the measured cross-VM exposure; older rows keep NULLs (assumed then).
            s.execute("ALTER TABLE vm_sample ADD COLUMN cross_vm_measured VARCHAR(16)");
            s.execute("ALTER TABLE vm_sample ADD COLUMN posture_measured_at TIMESTAMP WITH TIME ZONE");
            s.execute("INSERT INTO schema_version VALUES (" + SCHEMA_VERSION + ")");
        }
    }

    private static void migrateTo3(Statement s) throws SQLException {
        s.execute("ALTER TABLE host_sample ADD COLUMN reclaimed_bytes BIGINT");
        s.execute("ALTER TABLE host_sample ADD COLUMN zero_mapped_bytes BIGINT");
        s.execute("ALTER TABLE host_sample ADD COLUMN given_back_bytes BIGINT");
        s.execute("ALTER TABLE host_sample ADD COLUMN ksm_sharing_saved_bytes BIGINT");
        s.execute("ALTER TABLE vm_sample ADD COLUMN reclaimed_bytes BIGINT");
        s.execute("ALTER TABLE vm_sample ADD COLUMN zero_mapped_bytes BIGINT");
        s.execute("ALTER TABLE vm_sample ADD COLUMN given_back_bytes BIGINT");
        s.execute("ALTER TABLE vm_sample ADD COLUMN ksm_sharing_saved_bytes BIGINT");
        s.execute("ALTER TABLE vm_sample ADD COLUMN reclaimed_method VARCHAR(" + MAX_TEXT + ")");
        s.execute("ALTER TABLE vm_sample ADD COLUMN reclaimed_measured_at TIMESTAMP WITH TIME ZONE");
    }

    /** The first release's schema, so that a new database and a migrated one end up the same. */
    private static void createVersion1(Statement s) throws SQLException {
        s.execute("CREATE TABLE host_sample (at TIMESTAMP WITH TIME ZONE NOT NULL, pages_sharing BIGINT,"
                + " ksm_zero_pages BIGINT, saved_by_sharing_bytes BIGINT, saved_by_zero_pages_bytes BIGINT,"
                + " full_scans BIGINT, mem_available_bytes BIGINT)");
        s.execute("CREATE INDEX host_sample_at ON host_sample (at)");
        s.execute("CREATE TABLE vm_sample (at TIMESTAMP WITH TIME ZONE NOT NULL, vm VARCHAR(256) NOT NULL,"
                + " uuid VARCHAR(64) NOT NULL, ksm_saved_bytes BIGINT, zero_page_bytes BIGINT,"
                + " balloon_unused_bytes BIGINT, agent_status VARCHAR(32) NOT NULL)");
        s.execute("CREATE INDEX vm_sample_vm_at ON vm_sample (vm, at)");
        s.execute("INSERT INTO schema_version VALUES (1)");
    }

    /**
     * Records {@code snapshot} and its posture (scored from it) unless the last recorded one is less than
     * the interval older.
     */
    public synchronized void record(HostSnapshot snapshot, HostPosture posture) {
        if (snapshot.sampledAt().isBefore(recordedAt.plus(interval))) {
            return;
        }
        recordedAt = snapshot.sampledAt();
        try {
            Timestamp at = Timestamp.from(snapshot.sampledAt());
            try (PreparedStatement host =
                    connection.prepareStatement("INSERT INTO host_sample (at, pages_sharing, ksm_zero_pages,"
                            + " saved_by_sharing_bytes, saved_by_zero_pages_bytes, full_scans, mem_available_bytes, posture_score,"
                            + " reclaimed_bytes, zero_mapped_bytes, given_back_bytes, ksm_sharing_saved_bytes)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                host.setTimestamp(1, at);
                var stats = snapshot.ksm().map(k -> k.stats());
                KsmSavings savings = snapshot.ksm().map(k -> k.savings()).orElse(null);
                set(host, 2, stats.map(s -> s.pagesSharing()).orElse(OptionalLong.empty()));
                set(host, 3, stats.map(s -> s.ksmZeroPages()).orElse(OptionalLong.empty()));
                set(host, 4, savings == null ? OptionalLong.empty() : savings.savedBySharingBytes());
                set(host, 5, savings == null ? OptionalLong.empty() : savings.savedByZeroPagesBytes());
                set(host, 6, stats.map(s -> s.fullScans()).orElse(OptionalLong.empty()));
                set(host, 7, snapshot.memory().map(m -> m.memAvailableBytes()).orElse(OptionalLong.empty()));
                host.setInt(8, posture.hostScore());
                ReclaimedSums sums = ReclaimedSums.of(snapshot.vms());
                set(host, 9, sums.reclaimed());
                set(host, 10, sums.zero());
                set(host, 11, sums.givenBack());
                set(host, 12, sums.ksmSharingSaved());
                host.executeUpdate();
            }
            try (PreparedStatement vm =
                    connection.prepareStatement("INSERT INTO vm_sample (at, vm, uuid, ksm_saved_bytes,"
                            + " zero_page_bytes, balloon_unused_bytes, agent_status, posture_score, reclaimed_bytes, zero_mapped_bytes,"
                            + " given_back_bytes, ksm_sharing_saved_bytes, reclaimed_method, reclaimed_measured_at,"
                            + " cross_vm_measured, posture_measured_at)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < snapshot.vms().size(); i++) {
                    VmSnapshot v = snapshot.vms().get(i);
                    vm.setTimestamp(1, at);
                    vm.setString(2, v.domain().name());
                    vm.setString(3, v.domain().uuid());
                    set(vm, 4, v.ksmSavedBytes(snapshot.pageSizeBytes()));
                    set(vm, 5, v.zeroPageBytes(snapshot.pageSizeBytes()));
                    set(vm, 6, v.domain().balloonStats().unusedBytes());
                    vm.setString(7, v.agent().status().name());
                    vm.setInt(8, posture.vms().get(i).score());
                    Optional<GuestMemory> measured = v.guestMemory();
                    set(vm, 9, v.reclaimedBytes());
                    set(
                            vm,
                            10,
                            measured.map(m -> m.bytes(GuestMemory.Pages::zeroReclaimed))
                                    .orElse(OptionalLong.empty()));
                    set(
                            vm,
                            11,
                            measured.map(m -> m.bytes(GuestMemory.Pages::givenBack))
                                    .orElse(OptionalLong.empty()));
                    set(
                            vm,
                            12,
                            measured.map(m -> m.bytes(GuestMemory.Pages::ksmSaved))
                                    .orElse(OptionalLong.empty()));
                    vm.setString(
                            13, measured.map(m -> cut(m.methodDescription())).orElse(null));
                    vm.setTimestamp(
                            14,
                            measured.map(m -> Timestamp.from(m.measuredAt())).orElse(null));
                    VmPosture scored = posture.vms().get(i);
                    vm.setString(
                            15, scored.measuredAt().map(t -> crossVm(scored)).orElse(null));
                    vm.setTimestamp(16, scored.measuredAt().map(Timestamp::from).orElse(null));
                    vm.addBatch();
                }
                vm.executeBatch();
            }
            pruneNowAndThen();
            connection.commit();
        } catch (SQLException e) {
            rollback(e);
            throw new IllegalStateException("cannot record a sample in the history: " + e.getMessage(), e);
        }
    }

    /** Records one policy decision and what became of it; texts longer than 4000 characters are cut. */
    public synchronized void recordDecision(Instant at, Decision decision, String outcome, String result) {
        try (PreparedStatement insert =
                connection.prepareStatement("INSERT INTO decision (at, mode, ksm, scrubs, reason,"
                        + " outcome, result) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            insert.setTimestamp(1, Timestamp.from(at));
            insert.setString(2, decision.mode().label());
            insert.setString(
                    3,
                    cut(String.join(
                            " ",
                            decision.ksmAsMap().entrySet().stream()
                                    .map(e -> e.getKey() + "=" + e.getValue())
                                    .toList())));
            insert.setString(
                    4,
                    cut(String.join(
                            " ",
                            decision.scrubs().stream().map(ScrubRequest::vmName).toList())));
            insert.setString(5, cut(decision.reason()));
            insert.setString(6, cut(outcome));
            insert.setString(7, result);
            insert.executeUpdate();
            connection.commit();
        } catch (SQLException e) {
            rollback(e);
            throw new IllegalStateException("cannot record a decision in the history: " + e.getMessage(), e);
        }
    }

    /** Decisions with from <= at < to, oldest first. */
    public synchronized List<DecisionPoint> decisions(Instant from, Instant to) {
        return between("decision", null, from, to, rs -> {
            String scrubs = rs.getString("scrubs");
            String ksm = rs.getString("ksm");
            Map<String, String> knobs = new LinkedHashMap<>();
            for (String assignment : ksm.isEmpty() ? new String[0] : ksm.split(" ")) {
                knobs.put(
                        assignment.substring(0, assignment.indexOf('=')),
                        assignment.substring(assignment.indexOf('=') + 1));
            }
            // Releases before 0.1 stored the mode's enum name (ADAPTIVE): the same label as every document now.
            return new DecisionPoint(
                    rs.getTimestamp("at").toInstant(),
                    rs.getString("mode").toLowerCase(Locale.ROOT),
                    knobs.isEmpty() ? null : KsmSettings.knobValues(knobs),
                    scrubs.isEmpty() ? List.of() : List.of(scrubs.split(" ")),
                    rs.getString("reason"),
                    rs.getString("outcome"),
                    rs.getString("result"));
        });
    }

    private void rollback(SQLException e) {
        try {
            connection.rollback();
        } catch (SQLException rollback) {
            e.addSuppressed(rollback);
        }
    }

    private static String cut(String text) {
        return text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT - 3) + "...";
    }

    /** Host samples with from <= at < to, oldest first. */
    public synchronized List<HostPoint> hostSeries(Instant from, Instant to) {
        return between(
                "host_sample",
                null,
                from,
                to,
                rs -> new HostPoint(
                        rs.getTimestamp("at").toInstant(),
                        get(rs, "pages_sharing"),
                        get(rs, "ksm_zero_pages"),
                        get(rs, "saved_by_sharing_bytes"),
                        get(rs, "saved_by_zero_pages_bytes"),
                        get(rs, "full_scans"),
                        get(rs, "mem_available_bytes"),
                        get(rs, "posture_score"),
                        get(rs, "reclaimed_bytes"),
                        get(rs, "zero_mapped_bytes"),
                        get(rs, "given_back_bytes"),
                        get(rs, "ksm_sharing_saved_bytes")));
    }

    /** "observed" or "not_observed": the measured finding a probe gave the VM's posture. */
    private static String crossVm(VmPosture posture) {
        return posture.findings().stream().anyMatch(f -> f.id().equals("host.ksm.cross_vm_observed"))
                ? "observed"
                : "not_observed";
    }

    /** One VM's samples (by name) with from <= at < to, oldest first. */
    public synchronized List<VmPoint> vmSeries(String vm, Instant from, Instant to) {
        return between(
                "vm_sample",
                vm,
                from,
                to,
                rs -> new VmPoint(
                        rs.getTimestamp("at").toInstant(),
                        rs.getString("vm"),
                        rs.getString("uuid"),
                        get(rs, "ksm_saved_bytes"),
                        get(rs, "zero_page_bytes"),
                        get(rs, "balloon_unused_bytes"),
                        rs.getString("agent_status"),
                        get(rs, "posture_score"),
                        get(rs, "reclaimed_bytes"),
                        get(rs, "zero_mapped_bytes"),
                        get(rs, "given_back_bytes"),
                        get(rs, "ksm_sharing_saved_bytes"),
                        Optional.ofNullable(rs.getString("reclaimed_method")),
                        Optional.ofNullable(rs.getTimestamp("reclaimed_measured_at"))
                                .map(Timestamp::toInstant),
                        Optional.ofNullable(rs.getString("cross_vm_measured")),
                        Optional.ofNullable(rs.getTimestamp("posture_measured_at"))
                                .map(Timestamp::toInstant)));
    }

    /** Reads one row of a result set. */
    private interface RowReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /** The rows of {@code table} with from <= at < to (and, unless null, that {@code vm}), oldest first. */
    private <T> List<T> between(String table, String vm, Instant from, Instant to, RowReader<T> reader) {
        List<T> points = new ArrayList<>();
        try (PreparedStatement q = connection.prepareStatement("SELECT * FROM " + table + " WHERE "
                + (vm != null ? "vm = ? AND " : "") + "at >= ? AND at < ? ORDER BY at")) {
            int index = 1;
            if (vm != null) {
                q.setString(index++, vm);
            }
            q.setTimestamp(index++, Timestamp.from(from));
            q.setTimestamp(index, Timestamp.from(to));
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    points.add(reader.read(rs));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the history: " + e.getMessage(), e);
        }
        return points;
    }

    /** Deletes what is older than the retention, at most once a minute (a delete per sample would cost more than the insert). */
    private void pruneNowAndThen() throws SQLException {
        Instant now = clock.instant();
        if (now.isBefore(prunedAt.plus(PRUNE_EVERY))) {
            return;
        }
        prunedAt = now;
        Timestamp cutoff = Timestamp.from(now.minus(retention));
        for (String table : List.of("host_sample", "vm_sample", "decision")) {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM " + table + " WHERE at < ?")) {
                delete.setTimestamp(1, cutoff);
                delete.executeUpdate();
            }
        }
    }

    private static void set(PreparedStatement statement, int index, OptionalLong value) throws SQLException {
        if (value.isPresent()) {
            statement.setLong(index, value.getAsLong());
        } else {
            statement.setNull(index, Types.BIGINT);
        }
    }

    private static OptionalLong get(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(value);
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot close the history database: " + e.getMessage(), e);
        }
    }
}
