package org.memhygiene.ui.model;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import javafx.beans.property.LongProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleLongProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import org.memhygiene.ui.api.HostView;
import org.memhygiene.ui.api.KsmView;
import org.memhygiene.ui.api.VmView;

/**
 * Everything the views show, owned by the FX thread (only ever touched there): the host's and every VM's
 * series, the latest VM rows, the connection's state and the simulator's frontier. Views listen to
 * {@link #revision()}, which counts samples.
 */
public final class DashboardModel {
    public static final Duration RETENTION = Duration.ofHours(24);
    public static final String SHARING = "sharing_bytes";
    public static final String ZERO = "zero_page_bytes";
    public static final String FPR = "free_page_reporting_bytes";
    public static final String FREE = "mem_free_bytes";
    public static final String AVAILABLE = "mem_available_bytes";
    public static final String SCAN_RATE = "scan_rate_pages_per_second";
    public static final String KSMD_CPU = "ksmd_cpu_percent";
    public static final String MERGED_PAGES = "merged_pages";
    public static final String ZERO_PAGES = "zero_pages";

    /** The time ranges the overview and the VM detail offer; the first is the default. */
    public static final List<Duration> RANGES =
            List.of(Duration.ofMinutes(15), Duration.ofHours(1), Duration.ofHours(6), Duration.ofHours(24));

    /**
     * The state of the last history load of a view (docs/DASHBOARD.md, "History").
     *
     * @param loading whether a load is under way
     * @param failed  whether the last load failed (the live data stays)
     * @param text    what to show next to the range selector
     */
    public record HistoryStatus(boolean loading, boolean failed, String text) {
        public static final HistoryStatus NONE = new HistoryStatus(false, false, "");
    }

    /** The connection as the banner shows it. */
    public record Connection(boolean connected, String message) {}

    private final SeriesTable host =
            new SeriesTable(RETENTION.toSeconds(), SHARING, ZERO, FPR, FREE, AVAILABLE, SCAN_RATE, KSMD_CPU);
    private final Map<String, SeriesTable> vms = new HashMap<>();
    private final ObservableList<VmRow> rows = FXCollections.observableArrayList();
    private final ObservableList<FrontierPoint> frontier = FXCollections.observableArrayList();
    private final StringProperty frontierStatus = new SimpleStringProperty("");
    private final ObjectProperty<Optional<HostView>> latestHost = new SimpleObjectProperty<>(Optional.empty());
    private final ObjectProperty<Connection> connection =
            new SimpleObjectProperty<>(new Connection(false, "connecting…"));
    private final LongProperty revision = new SimpleLongProperty();
    private final ObservableList<String> decisions = FXCollections.observableArrayList();
    private final ObjectProperty<Duration> range = new SimpleObjectProperty<>(RANGES.get(0));
    private final ObjectProperty<HistoryStatus> hostHistory = new SimpleObjectProperty<>(HistoryStatus.NONE);
    private final ObjectProperty<HistoryStatus> vmHistory = new SimpleObjectProperty<>(HistoryStatus.NONE);
    private HostView previous;

    /** One sample: the host, its VMs and the breakdown of what each reclaims. */
    public void add(HostView sample, List<VmView> vmViews, SourceBreakdown.Result breakdown) {
        double t = sample.sampledAt().toEpochMilli() / 1000.0;
        double scanRate = Double.NaN;
        double cpu = Double.NaN;
        if (previous != null) {
            double dt = t - previous.sampledAt().toEpochMilli() / 1000.0;
            if (dt > 0) {
                scanRate = delta(
                                sample.ksm().map(KsmView::pagesScanned),
                                previous.ksm().map(KsmView::pagesScanned))
                        / dt;
                if (sample.ksmdCpuMillis().isPresent()
                        && previous.ksmdCpuMillis().isPresent()) {
                    cpu = (sample.ksmdCpuMillis().getAsLong()
                                    - previous.ksmdCpuMillis().getAsLong())
                            / (dt * 1000.0)
                            * 100.0;
                }
            }
        }
        previous = sample;
        Reclaimed h = breakdown.host();
        host.add(
                t,
                h.sharingBytes(),
                h.zeroPageBytes(),
                h.freePageReportingBytes(),
                orNaN(sample.memFreeBytes()),
                orNaN(sample.memAvailableBytes()),
                scanRate,
                cpu);
        List<VmRow> newRows = new ArrayList<>(vmViews.size());
        for (VmView vm : vmViews) {
            Reclaimed r = breakdown.vms().getOrDefault(vm.uuid(), Reclaimed.NONE);
            vmTable(vm.uuid())
                    .add(
                            t,
                            r.sharingBytes(),
                            r.zeroPageBytes(),
                            r.freePageReportingBytes(),
                            orNaN(vm.mergedPages()),
                            orNaN(vm.zeroPages()));
            newRows.add(new VmRow(vm, r));
        }
        rows.setAll(newRows);
        latestHost.set(Optional.of(sample));
        revision.set(revision.get() + 1);
    }

    private static double delta(Optional<OptionalLong> now, Optional<OptionalLong> before) {
        if (now.isEmpty()
                || before.isEmpty()
                || now.get().isEmpty()
                || before.get().isEmpty()) {
            return Double.NaN;
        }
        return now.get().getAsLong() - before.get().getAsLong();
    }

    private static double orNaN(OptionalLong value) {
        return value.isPresent() ? value.getAsLong() : Double.NaN;
    }

    public SeriesTable host() {
        return host;
    }

    /** The series of the VM with {@code uuid}; empty before its first sample. */
    public Optional<SeriesTable> vm(String uuid) {
        return Optional.ofNullable(vms.get(uuid));
    }

    /** The series of the VM with {@code uuid}, created empty when it has none yet (for its history). */
    public SeriesTable vmTable(String uuid) {
        return vms.computeIfAbsent(
                uuid, u -> new SeriesTable(RETENTION.toSeconds(), SHARING, ZERO, FPR, MERGED_PAGES, ZERO_PAGES));
    }

    /** Tells the views to redraw (after history was merged into the series). */
    public void changed() {
        revision.set(revision.get() + 1);
    }

    /** The time range the overview and the VM detail show, back from the latest sample. */
    public ObjectProperty<Duration> range() {
        return range;
    }

    /** The policy's recorded decisions in the range shown, oldest first, one line each. */
    public ObservableList<String> decisions() {
        return decisions;
    }

    public ObjectProperty<HistoryStatus> hostHistory() {
        return hostHistory;
    }

    public ObjectProperty<HistoryStatus> vmHistory() {
        return vmHistory;
    }

    public ObservableList<VmRow> rows() {
        return rows;
    }

    public ObservableList<FrontierPoint> frontier() {
        return frontier;
    }

    public StringProperty frontierStatus() {
        return frontierStatus;
    }

    public ObjectProperty<Optional<HostView>> latestHost() {
        return latestHost;
    }

    public ObjectProperty<Connection> connection() {
        return connection;
    }

    public LongProperty revision() {
        return revision;
    }
}
