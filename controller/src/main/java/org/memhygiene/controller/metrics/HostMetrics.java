package org.memhygiene.controller.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmStats;

/**
 * The daemon's Prometheus metrics (docs/METRICS.md), computed at scrape time from the latest snapshot
 * and the loop's status, so a VM that is gone is gone from the next scrape. Names follow Prometheus
 * conventions (https://prometheus.io/docs/practices/naming/): base units, {@code _total} for counters.
 * The KSM figures mean what node_exporter's node_ksmd_* mean (both read /sys/kernel/mm/ksm).
 */
public final class HostMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Supplier<Optional<HostSnapshot>> latest;

    public HostMetrics(Supplier<Optional<HostSnapshot>> latest, Supplier<SnapshotLoop.Status> status) {
        this.latest = latest;
        ksmGauge("memhygiene_ksm_run", "KSM's run knob: 0 stopped, 1 running, 2 unmerge all", KsmStats::run);
        ksmGauge("memhygiene_ksm_pages_to_scan", "Pages ksmd scans per wake-up", KsmStats::pagesToScan);
        ksmGauge("memhygiene_ksm_pages_shared", "KSM pages in use (pages_shared)", KsmStats::pagesShared);
        ksmGauge("memhygiene_ksm_pages_sharing", "Pages sharing a KSM page, i.e. saved (pages_sharing)", KsmStats::pagesSharing);
        ksmGauge("memhygiene_ksm_pages_unshared", "Pages scanned, unique, still checked (pages_unshared)", KsmStats::pagesUnshared);
        ksmGauge("memhygiene_ksm_pages_volatile", "Pages changing too fast to merge (pages_volatile)", KsmStats::pagesVolatile);
        ksmGauge("memhygiene_ksm_zero_pages", "Pages merged with the kernel's zero page (ksm_zero_pages)", KsmStats::ksmZeroPages);
        CounterWithCallback.builder().name("memhygiene_ksm_full_scans").help("Full scans ksmd has completed (full_scans)")
                .callback(cb -> ksm(KsmStats::fullScans).ifPresent(v -> cb.call(v))).register(registry);
        GaugeWithCallback.builder().name("memhygiene_ksm_saved_bytes")
                .help("Host memory KSM saves, by sharing (pages_sharing) and by the zero page (ksm_zero_pages)")
                .labelNames("by").callback(cb -> latest.get().flatMap(HostSnapshot::ksm).ifPresent(k -> {
                    cb.call(k.savings().savedBySharingBytes().orElse(0), "sharing");
                    cb.call(k.savings().savedByZeroPagesBytes().orElse(0), "zero_pages");
                })).register(registry);
        vmGauge("memhygiene_vm_ksm_saved_bytes", "Guest memory KSM backs with shared or zero pages (QEMU ksm_stat)",
                (vm, page) -> vm.ksmSavedBytes(page));
        vmGauge("memhygiene_vm_zero_page_bytes", "Guest memory merged with the zero page (QEMU ksm_zero_pages)",
                (vm, page) -> vm.zeroPageBytes(page));
        vmGauge("memhygiene_vm_balloon_unused_bytes", "Memory the guest leaves unused (balloon statistics)",
                (vm, page) -> vm.domain().balloonStats().unusedBytes());
        GaugeWithCallback.builder().name("memhygiene_vm_agent_up").help("1 when the VM's agent answered its last sample")
                .labelNames("vm", "status").callback(cb -> latest.get().ifPresent(s -> s.vms().forEach(vm ->
                        cb.call(vm.agent().status() == AgentStatus.OK ? 1 : 0, vm.domain().name(),
                                vm.agent().status().name().toLowerCase(Locale.ROOT))))).register(registry);
        GaugeWithCallback.builder().name("memhygiene_sample_duration_seconds").help("How long the last host sample took")
                .callback(cb -> latest.get().ifPresent(s -> cb.call(s.took().toNanos() / 1e9))).register(registry);
        CounterWithCallback.builder().name("memhygiene_samples").help("Host samples taken")
                .callback(cb -> cb.call(status.get().samples())).register(registry);
        CounterWithCallback.builder().name("memhygiene_sample_failures").help("Host samples that failed")
                .callback(cb -> cb.call(status.get().failures())).register(registry);
    }

    /** The text exposition format (version 0.0.4) for GET /metrics. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private OptionalLong ksm(Function<KsmStats, OptionalLong> field) {
        return latest.get().flatMap(HostSnapshot::ksm).map(k -> field.apply(k.stats())).orElse(OptionalLong.empty());
    }

    private void ksmGauge(String name, String help, Function<KsmStats, OptionalLong> field) {
        GaugeWithCallback.builder().name(name).help(help)
                .callback(cb -> ksm(field).ifPresent(v -> cb.call(v))).register(registry);
    }

    private interface VmFigure {
        OptionalLong of(VmSnapshot vm, long pageSizeBytes);
    }

    private void vmGauge(String name, String help, VmFigure figure) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("vm")
                .callback(cb -> latest.get().ifPresent(s -> s.vms().forEach(vm ->
                        figure.of(vm, s.pageSizeBytes()).ifPresent(v -> cb.call(v, vm.domain().name())))))
                .register(registry);
    }
}
