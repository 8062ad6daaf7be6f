package org.memhygiene.controller.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.memhygiene.controller.daemon.PolicyStep;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;
import org.memhygiene.core.probe.DedupProbeReport;

/**
 * The daemon's Prometheus metrics (docs/METRICS.md), computed at scrape time from the latest snapshot
 * and the loop's status, so a VM that is gone is gone from the next scrape. Names follow Prometheus
 * conventions (https://prometheus.io/docs/practices/naming/): base units, {@code _total} for counters.
 * The KSM figures mean what node_exporter's node_ksmd_* mean (both read /sys/kernel/mm/ksm).
 */
public final class HostMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Supplier<Optional<HostSnapshot>> latest;

    public HostMetrics(
            Supplier<Optional<HostSnapshot>> latest,
            Supplier<SnapshotLoop.Status> status,
            PostureScorer posture,
            PolicyStep policy,
            double ksmdCpuBudgetPercent,
            Supplier<Optional<DedupProbeReport>> probes) {
        this.latest = latest;
        GaugeWithCallback.builder()
                .name("memhygiene_vm_dedup_observed")
                .help("The latest deduplication probe: 1 when the VM's canary was merged with another VM's, 0 when"
                        + " not (docs/POSTURE.md); absent for a VM the probe could not measure")
                .labelNames("vm")
                .callback(cb -> probes.get()
                        .ifPresent(p -> p.vms().stream()
                                .filter(vm -> vm.verdict() != DedupProbeReport.Verdict.UNKNOWN)
                                .forEach(vm ->
                                        cb.call(vm.verdict() == DedupProbeReport.Verdict.OBSERVED ? 1 : 0, vm.name()))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_vm_dedup_merged_canary_pages")
                .help("The latest deduplication probe: the VM's canary pages the host found merged with another"
                        + " VM's (its QEMU process's pagemap and kpageflags)")
                .labelNames("vm")
                .callback(cb -> probes.get()
                        .ifPresent(p -> p.vms()
                                .forEach(vm ->
                                        vm.host().ifPresent(h -> cb.call(h.canaryPagesMergedAcrossVms(), vm.name())))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_dedup_probe_timestamp_seconds")
                .help("When the latest deduplication probe measured (Unix time)")
                .callback(
                        cb -> probes.get().ifPresent(p -> cb.call(p.measuredAt().toEpochMilli() / 1000.0)))
                .register(registry);
        ksmGauge("memhygiene_ksm_run", "KSM's run knob: 0 stopped, 1 running, 2 unmerge all", KsmStats::run);
        ksmGauge("memhygiene_ksm_pages_to_scan", "Pages ksmd scans per wake-up", KsmStats::pagesToScan);
        ksmGauge("memhygiene_ksm_pages_shared", "KSM pages in use (pages_shared)", KsmStats::pagesShared);
        ksmGauge(
                "memhygiene_ksm_pages_sharing",
                "Pages sharing a KSM page, i.e. saved (pages_sharing)",
                KsmStats::pagesSharing);
        ksmGauge(
                "memhygiene_ksm_pages_unshared",
                "Pages scanned, unique, still checked (pages_unshared)",
                KsmStats::pagesUnshared);
        ksmGauge(
                "memhygiene_ksm_pages_volatile",
                "Pages changing too fast to merge (pages_volatile)",
                KsmStats::pagesVolatile);
        ksmGauge(
                "memhygiene_ksm_zero_pages",
                "Pages merged with the kernel's zero page (ksm_zero_pages)",
                KsmStats::ksmZeroPages);
        CounterWithCallback.builder()
                .name("memhygiene_ksm_full_scans")
                .help("Full scans ksmd has completed (full_scans)")
                .callback(cb -> ksm(KsmStats::fullScans).ifPresent(v -> cb.call(v)))
                .register(registry);
        CounterWithCallback.builder()
                .name("memhygiene_ksmd_cpu_seconds")
                .help("CPU time ksmd has used since boot (its thread in /proc); absent for a host without it")
                .callback(cb -> latest.get().ifPresent(s -> s.ksmdCpuMillis().ifPresent(ms -> cb.call(ms / 1e3))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_policy_ksmd_cpu_budget_percent")
                .help("The adaptive policy's ksmd CPU budget, percent of one core (adaptive.cpu_budget_percent)")
                .callback(cb -> cb.call(ksmdCpuBudgetPercent))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_ksm_saved_bytes")
                .help("Host memory KSM saves, by sharing (pages_sharing) and by the zero page (ksm_zero_pages)")
                .labelNames("by")
                .callback(cb -> latest.get().flatMap(HostSnapshot::ksm).ifPresent(k -> {
                    cb.call(k.savings().savedBySharingBytes().orElse(0), "sharing");
                    cb.call(k.savings().savedByZeroPagesBytes().orElse(0), "zero_pages");
                }))
                .register(registry);
        vmGauge(
                "memhygiene_vm_ksm_saved_bytes",
                "KSM-accounted: guest memory KSM backs with shared or zero pages (QEMU ksm_stat)",
                (vm, page) -> vm.ksmSavedBytes(page));
        vmGauge(
                "memhygiene_vm_zero_page_bytes",
                "KSM-accounted: guest memory KSM merged with the zero page (QEMU ksm_zero_pages)",
                (vm, page) -> vm.zeroPageBytes(page));
        guestMemoryMetrics();
        vmGauge(
                "memhygiene_vm_balloon_unused_bytes",
                "Memory the guest leaves unused (balloon statistics)",
                (vm, page) -> vm.domain().balloonStats().unusedBytes());
        GaugeWithCallback.builder()
                .name("memhygiene_vm_agent_up")
                .help("1 when the VM's agent answered its last sample")
                .labelNames("vm", "status")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.vms()
                                .forEach(vm -> cb.call(
                                        vm.agent().status() == AgentStatus.OK ? 1 : 0,
                                        vm.domain().name(),
                                        vm.agent().status().name().toLowerCase(Locale.ROOT)))))
                .register(registry);
        CounterWithCallback.builder()
                .name("memhygiene_vm_agent_zeroed_bytes")
                .help("Bytes the VM's agent has zeroed in its scrubs since it started (its scrub counters)")
                .labelNames("vm")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.vms()
                                .forEach(vm -> vm.agent()
                                        .stats()
                                        .ifPresent(a -> cb.call(
                                                a.scrub().totalBytesZeroed(),
                                                vm.domain().name())))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_vm_posture_level")
                .help("1 for the posture level the VM's domain XML declares (dense, balanced, sensitive)")
                .labelNames("vm", "level")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.vms()
                                .forEach(vm -> vm.config()
                                        .flatMap(DomainXml::posture)
                                        .ifPresent(level -> cb.call(
                                                1,
                                                vm.domain().name(),
                                                level.name().toLowerCase(Locale.ROOT))))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_sample_duration_seconds")
                .help("How long the last host sample took")
                .callback(cb -> latest.get().ifPresent(s -> cb.call(s.took().toNanos() / 1e9)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_source_up")
                .help(
                        "1 when the source's last read worked (ksm, host_memory, libvirt or simulator, agent/VM), 0 when it is down")
                .labelNames("source")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.sources().forEach(source -> cb.call(source.up() ? 1 : 0, source.name()))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_source_age_seconds")
                .help(
                        "How old the source's figures in the latest sample are: 0 when up, since its last good read when down")
                .labelNames("source")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.sources()
                                .forEach(source ->
                                        source.ageMillis().ifPresent(age -> cb.call(age / 1e3, source.name())))))
                .register(registry);
        CounterWithCallback.builder()
                .name("memhygiene_samples")
                .help("Host samples taken")
                .callback(cb -> cb.call(status.get().samples()))
                .register(registry);
        CounterWithCallback.builder()
                .name("memhygiene_sample_failures")
                .help("Host samples that failed")
                .callback(cb -> cb.call(status.get().failures()))
                .register(registry);
        postureMetrics(posture);
        policyMetrics(policy);
    }

    /**
     * Each VM's guest RAM as its latest pass measured it (docs/RECLAIM.md): bytes by state (the states that
     * add up to guest RAM, only for a method with page states), reclaimed, how old the figure is, and how
     * it was measured.
     */
    private void guestMemoryMetrics() {
        GaugeWithCallback.builder()
                .name("memhygiene_vm_memory_bytes")
                .help(
                        "Guest RAM by page state, from the QEMU process's page tables: resident, ksm, zero, huge_zero, swapped,"
                                + " not_present (they add up to guest RAM; see memhygiene_vm_guest_memory_method for the method)")
                .labelNames("vm", "state")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.vms()
                                .forEach(vm -> vm.guestMemory()
                                        .filter(m -> m.method().pageStates())
                                        .ifPresent(m -> {
                                            GuestMemory.Pages p = m.pages();
                                            String name = vm.domain().name();
                                            state(cb, m, p.resident(), name, "resident");
                                            state(cb, m, p.ksm(), name, "ksm");
                                            state(cb, m, p.zero(), name, "zero");
                                            state(cb, m, p.hugeZero(), name, "huge_zero");
                                            state(cb, m, p.swapped(), name, "swapped");
                                            state(cb, m, p.notPresent(), name, "not_present");
                                        }))))
                .register(registry);
        vmGauge(
                "memhygiene_vm_reclaimed_bytes",
                "Guest RAM the host got back from the VM: zero-mapped (but not what never cost the host) plus given back, the drop"
                        + " of its QEMU process's RSS (with the smaps_rollup fallback only ksm_zero_pages, a lower bound)",
                (vm, page) -> vm.reclaimedBytes());
        vmGauge(
                "memhygiene_vm_ksm_sharing_saved_bytes",
                "What KSM sharing saves of the VM's guest RAM, each KSM-mapped page"
                        + " counting 1 - 1/sharers (pagemap with kpagecount; absent without page frames)",
                (vm, page) -> vm.guestMemory()
                        .map(m -> m.bytes(GuestMemory.Pages::ksmSaved))
                        .orElse(OptionalLong.empty()));
        GaugeWithCallback.builder()
                .name("memhygiene_vm_guest_memory_age_seconds")
                .help(
                        "How old the VM's guest memory figures are at the latest sample: since its last pass read its last page")
                .labelNames("vm")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.vms()
                                .forEach(vm -> vm.guestMemory()
                                        .ifPresent(m -> cb.call(
                                                m.ageMillis(s.sampledAt()) / 1e3,
                                                vm.domain().name())))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_vm_guest_memory_method")
                .help(
                        "1 for how the VM's guest memory was measured: method (pagemap+kpageflags, pagemap_scan+kpageflags,"
                                + " pagemap_scan, smaps_rollup, simulator (model), none) and description (with the fallback's reason)")
                .labelNames("vm", "method", "description")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.vms()
                                .forEach(vm -> vm.guestMemory()
                                        .ifPresent(m -> cb.call(
                                                1,
                                                vm.domain().name(),
                                                m.method().label(),
                                                m.methodDescription())))))
                .register(registry);
    }

    private static void state(
            GaugeWithCallback.Callback cb, GuestMemory m, OptionalLong pages, String vm, String state) {
        m.inBytes(pages).ifPresent(value -> cb.call(value, vm, state));
    }

    /** Scores and findings by severity (docs/POSTURE.md); the host's have scope="host" and vm="". */
    private void postureMetrics(PostureScorer posture) {
        GaugeWithCallback.builder()
                .name("memhygiene_posture_score")
                .help("Memory-security posture, 0 (worst) to 100, of the host (scope=host) and of each VM (scope=vm)")
                .labelNames("scope", "vm")
                .callback(cb -> latest.get().map(posture::score).ifPresent(p -> {
                    cb.call(p.hostScore(), "host", "");
                    p.vms().forEach(vm -> cb.call(vm.score(), "vm", vm.name()));
                }))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_posture_findings")
                .help("Posture findings by severity, of the host (scope=host) and of each VM (scope=vm)")
                .labelNames("scope", "vm", "severity")
                .callback(cb -> latest.get().map(posture::score).ifPresent(p -> {
                    bySeverity(p.hostFindings()).forEach((severity, n) -> cb.call(n, "host", "", severity));
                    p.vms()
                            .forEach(vm -> bySeverity(vm.findings())
                                    .forEach((severity, n) -> cb.call(n, "vm", vm.name(), severity)));
                }))
                .register(registry);
    }

    private static Map<String, Integer> bySeverity(List<Finding> findings) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Severity s : Severity.values()) {
            counts.put(s.name().toLowerCase(Locale.ROOT), 0);
        }
        findings.forEach(f -> counts.merge(f.severity().name().toLowerCase(Locale.ROOT), 1, Integer::sum));
        return counts;
    }

    /** What the policy decided (docs/POLICY.md): counts by mode and outcome, the mode now, the last decision's knobs. */
    private void policyMetrics(PolicyStep policy) {
        CounterWithCallback.builder()
                .name("memhygiene_policy_decisions")
                .help(
                        "Policy decisions since the daemon started, by mode and outcome (applied, nothing_to_do, dry_run, failed)")
                .labelNames("mode", "outcome")
                .callback(cb -> policy.counts()
                        .forEach((mode, byResult) ->
                                byResult.forEach((result, n) -> cb.call(n, mode.label(), result.label()))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_policy_mode")
                .help("1 for the policy mode that decides now")
                .labelNames("mode")
                .callback(cb -> cb.call(1, policy.state().mode().label()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_policy_dry_run")
                .help("1 when the policy decides without writing anything")
                .callback(cb -> cb.call(policy.state().dryRun() ? 1 : 0))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_policy_last_decision_timestamp_seconds")
                .help("When the policy last decided (Unix time)")
                .callback(cb -> last(policy).ifPresent(r -> cb.call(r.at().toEpochMilli() / 1e3)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_policy_last_decision_ksm")
                .help("The KSM knobs the last decision set, by knob (absent when it left KSM as it was)")
                .labelNames("knob")
                .callback(cb -> last(policy)
                        .ifPresent(r -> r.decision().ksmAsMap().forEach((knob, value) -> {
                            try {
                                cb.call(Double.parseDouble(value), knob);
                            } catch (NumberFormatException e) {
                                // advisor_mode is a word, not a figure
                            }
                        })))
                .register(registry);
        GaugeWithCallback.builder()
                .name("memhygiene_policy_last_decision_scrubs")
                .help("Guests the last decision asked to scrub")
                .callback(cb -> last(policy)
                        .ifPresent(r -> cb.call(r.decision().scrubs().size())))
                .register(registry);
    }

    private static Optional<PolicyStep.Record> last(PolicyStep policy) {
        List<PolicyStep.Record> records = policy.records();
        return records.isEmpty() ? Optional.empty() : Optional.of(records.get(records.size() - 1));
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
        return latest.get()
                .flatMap(HostSnapshot::ksm)
                .map(k -> field.apply(k.stats()))
                .orElse(OptionalLong.empty());
    }

    private void ksmGauge(String name, String help, Function<KsmStats, OptionalLong> field) {
        GaugeWithCallback.builder()
                .name(name)
                .help(help)
                .callback(cb -> ksm(field).ifPresent(v -> cb.call(v)))
                .register(registry);
    }

    private interface VmFigure {
        OptionalLong of(VmSnapshot vm, long pageSizeBytes);
    }

    private void vmGauge(String name, String help, VmFigure figure) {
        GaugeWithCallback.builder()
                .name(name)
                .help(help)
                .labelNames("vm")
                .callback(cb -> latest.get()
                        .ifPresent(s -> s.vms()
                                .forEach(vm -> figure.of(vm, s.pageSizeBytes())
                                        .ifPresent(v -> cb.call(v, vm.domain().name())))))
                .register(registry);
    }
}
