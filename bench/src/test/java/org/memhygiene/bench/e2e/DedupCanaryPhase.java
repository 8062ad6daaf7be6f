package org.memhygiene.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.memhygiene.controller.probe.CanaryLocator;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * The deduplication canary on real guests (docs/POSTURE.md, "The deduplication canary"): {@code memhygiene
 * probe dedup} as an admin runs it, three cases, each a check. Two guests from vm-configs/dense.xml with KSM
 * merging: the host's truth shows their canary pages merged across them and the guests' writes show it. A dense
 * guest and one from vm-configs/sensitive.xml ({@code <nosharepages/>}): nothing merged, not observed. KSM
 * stopped: not observed. After each probe no canary page is left in any guest's RAM, on a KSM frame or not (read
 * through its QEMU process, as the probe reads it).
 *
 * <p>KSM runs at the suite's rate with smart_scan off for the merging case: at this rate the guests' idle pages
 * have aged under smart_scan long before the probe, and a canary planted on aged pages merges only when both
 * twins' skipped scans line up (docs/POSTURE.md, "smart_scan"); the knob is put back afterwards.
 */
final class DedupCanaryPhase implements Phase<DedupCanaryPhase.Result> {
    static final int PAGES = 256;

    /** One probe: the VMs asked for, what KSM was, the report's rows in short, for the results section. */
    record Probe(String name, String ksm, String waited, String hostTruth, List<String> rows, List<String> pairs) {}

    record Result(List<Check> checks, List<Probe> probes) implements PhaseResult {}

    private final RealVmFixture fixture;
    private final Guest dense1;
    private final Guest dense2;
    private final Guest sensitive;

    DedupCanaryPhase(RealVmFixture fixture, Guest dense1, Guest dense2, Guest sensitive) {
        this.fixture = fixture;
        this.dense1 = dense1;
        this.dense2 = dense2;
        this.sensitive = sensitive;
    }

    @Override
    public Result run() throws Exception {
        List<Check> checks = new ArrayList<>();
        List<Probe> probes = new ArrayList<>();
        long smartScanBefore = HostMeters.ksm("smart_scan");
        try {
            RealVmFixture.setKsm(DenseGuests.PAGES_TO_SCAN, DenseGuests.SLEEP_MILLIS, 1);
            HostMeters.setKsm("smart_scan", 0);
            // Two full scans first: what the idle guests merge among themselves is merged before the first probe,
            // so KSM's counters after a probe compare with a steady state.
            Watch.run(fixture.meters(), List.of(), 0, 2, Duration.ofSeconds(120), 0);

            JsonNode merged = probe("two dense guests, KSM merging", probes, checks, dense1, dense2);
            JsonNode a = vm(merged, dense1.name);
            JsonNode b = vm(merged, dense2.name);
            checks.add(Check.of(
                            merged.path("host_truth_method").asText().equals("pagemap+kpageflags")
                                    && pair(merged, dense1.name, dense2.name) >= PAGES * 9 / 10
                                    && a.path("verdict").asText().equals("observed")
                                    && b.path("verdict").asText().equals("observed")
                                    && a.at("/guest/observed").asBoolean()
                                    && b.at("/guest/observed").asBoolean(),
                            "two dense guests with KSM merging: %d of %d canary pages merged across them (host truth, %s);"
                                    + " guest view: %s canary %d ns vs control %d ns (p = %.2g), %s canary %d ns vs control %d ns (p = %.2g): observed",
                            pair(merged, dense1.name, dense2.name),
                            PAGES,
                            merged.path("host_truth_method").asText(),
                            dense1.name,
                            a.at("/guest/canary_median_nanos").asLong(),
                            a.at("/guest/control_median_nanos").asLong(),
                            a.at("/guest/p_value").asDouble(),
                            dense2.name,
                            b.at("/guest/canary_median_nanos").asLong(),
                            b.at("/guest/control_median_nanos").asLong(),
                            b.at("/guest/p_value").asDouble())
                    .saying(notProbed(merged)));

            JsonNode apart =
                    probe("a dense guest and a sensitive.xml guest, KSM merging", probes, checks, dense1, sensitive);
            JsonNode c = vm(apart, sensitive.name);
            checks.add(Check.of(
                            pair(apart, dense1.name, sensitive.name) == 0
                                    && c.at("/host/canary_pages_found").asInt() == PAGES
                                    && c.at("/host/canary_pages_ksm").asInt() == 0
                                    && c.path("verdict").asText().equals("not_observed")
                                    && vm(apart, dense1.name)
                                            .path("verdict")
                                            .asText()
                                            .equals("not_observed"),
                            "a dense guest and one from sensitive.xml (<nosharepages/>): %d canary pages merged between them;"
                                    + " %s's %d canary pages found, %d on KSM pages; verdicts %s and %s (guest p = %.2g)",
                            pair(apart, dense1.name, sensitive.name),
                            sensitive.name,
                            c.at("/host/canary_pages_found").asInt(),
                            c.at("/host/canary_pages_ksm").asInt(),
                            vm(apart, dense1.name).path("verdict").asText(),
                            c.path("verdict").asText(),
                            c.at("/guest/p_value").asDouble())
                    .saying(notProbed(apart)));

            HostMeters.setKsm("run", 0);
            JsonNode stopped = probe("two dense guests, KSM stopped", probes, checks, dense1, dense2);
            checks.add(Check.of(
                            pair(stopped, dense1.name, dense2.name) == 0
                                    && vm(stopped, dense1.name)
                                            .path("verdict")
                                            .asText()
                                            .equals("not_observed")
                                    && vm(stopped, dense2.name)
                                            .path("verdict")
                                            .asText()
                                            .equals("not_observed"),
                            "KSM stopped (run=0): %d canary pages merged, verdicts %s and %s; waited: %s",
                            pair(stopped, dense1.name, dense2.name),
                            vm(stopped, dense1.name).path("verdict").asText(),
                            vm(stopped, dense2.name).path("verdict").asText(),
                            stopped.at("/ksm/waited").asText())
                    .saying(notProbed(stopped)));
        } finally {
            HostMeters.setKsm("smart_scan", smartScanBefore);
            HostMeters.setKsm("run", 1);
        }
        return new Result(checks, probes);
    }

    /** Runs one probe through bin/memhygiene, checks nothing of it stayed, and keeps its rows for the report. */
    private JsonNode probe(String name, List<Probe> probes, List<Check> checks, Guest... guests) throws Exception {
        List<String> args = new ArrayList<>(List.of("probe", "dedup", "--uri", Guest.URI, "--json"));
        for (Guest g : guests) {
            args.addAll(List.of("--vm", g.name));
        }
        args.addAll(List.of("--pages", Integer.toString(PAGES), "--deadline", "4m", "--agent-timeout", "30s"));
        long sharedBefore = HostMeters.ksm("pages_shared");
        JsonNode report = fixture.command().json(args.toArray(String[]::new));
        long sharedAfter = HostMeters.ksm("pages_shared");
        CanaryLocator locator = new CanaryLocator(Path.of("/proc"), LinuxMemory.pageSizeBytes());
        byte[] nonce = HexFormat.of().parseHex(report.path("nonce").asText());
        List<String> left = new ArrayList<>();
        for (Guest g : guests) {
            int found = locator.locate(g.pid(), nonce, PAGES).foundCount();
            if (found > 0) {
                left.add(g.name + " " + found);
            }
        }
        // Read through the QEMU processes as the probe reads them: a canary page still on a KSM frame would be
        // found too. KSM's own pages_shared must not move while ksmd is stopped (nothing else merges then); while
        // it runs the guests' other pages merge meanwhile, so there it is shown, not asserted.
        boolean ksmStopped = HostMeters.ksm("run") != 1;
        checks.add(Check.of(
                left.isEmpty() && (!ksmStopped || sharedAfter == sharedBefore),
                "%s: no canary page left in the guests' RAM after the probe (%s); KSM pages_shared %d before,"
                        + " %d after",
                name,
                left.isEmpty() ? "none found" : String.join(", ", left),
                sharedBefore,
                sharedAfter));
        List<String> rows = new ArrayList<>();
        for (JsonNode vm : report.path("vms")) {
            rows.add(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s | %s | %s |",
                    vm.path("name").asText(),
                    vm.path("verdict").asText(),
                    vm.at("/host/canary_pages_found").asText("-"),
                    vm.at("/host/canary_pages_merged_across_vms").asText("-"),
                    nanos(vm, "canary"),
                    nanos(vm, "control"),
                    vm.path("guest").isNull()
                            ? "-"
                            : String.format(
                                    Locale.ROOT,
                                    "%.2f / %.2g",
                                    vm.at("/guest/z").asDouble(),
                                    vm.at("/guest/p_value").asDouble()),
                    vm.path("detail").asText().isEmpty()
                            ? "-"
                            : vm.path("detail").asText()));
        }
        List<String> pairs = new ArrayList<>();
        for (JsonNode p : report.path("pairs")) {
            pairs.add(p.path("vm_a").asText() + " + " + p.path("vm_b").asText() + ": "
                    + p.path("merged_pages").asInt());
        }
        JsonNode ksm = report.path("ksm");
        probes.add(new Probe(
                name,
                "run=" + ksm.path("run").asText() + ", smart_scan="
                        + ksm.path("smart_scan").asText() + ", use_zero_pages="
                        + ksm.path("use_zero_pages").asText(),
                ksm.path("waited").asText() + " ("
                        + ksm.path("full_scans_waited").asText() + " completed)",
                report.path("host_truth_method").asText(),
                rows,
                pairs));
        return report;
    }

    /**
     * "; memhygiene-e2e-canary-1: no_agent (canary-plant: …)" for each VM the probe did not probe, or whose row
     * has a detail: what a failed check needs to say why a verdict is unknown.
     */
    private static String notProbed(JsonNode report) {
        StringBuilder said = new StringBuilder();
        for (JsonNode vm : report.path("vms")) {
            String outcome = vm.path("outcome").asText();
            String detail = vm.path("detail").asText();
            if (!outcome.equals("probed") || !detail.isEmpty()) {
                said.append("; ").append(vm.path("name").asText()).append(": ").append(outcome);
                if (!detail.isEmpty()) {
                    said.append(" (").append(detail).append(')');
                }
            }
        }
        return said.toString();
    }

    private static String nanos(JsonNode vm, String kind) {
        return vm.path("guest").isNull()
                ? "-"
                : vm.at("/guest/" + kind + "_median_nanos").asLong() + " / "
                        + vm.at("/guest/" + kind + "_p90_nanos").asLong();
    }

    private static JsonNode vm(JsonNode report, String name) {
        for (JsonNode vm : report.path("vms")) {
            if (vm.path("name").asText().equals(name)) {
                return vm;
            }
        }
        throw new IllegalStateException("no row for " + name + " in " + report);
    }

    private static int pair(JsonNode report, String a, String b) {
        for (JsonNode p : report.path("pairs")) {
            String x = p.path("vm_a").asText();
            String y = p.path("vm_b").asText();
            if ((x.equals(a) && y.equals(b)) || (x.equals(b) && y.equals(a))) {
                return p.path("merged_pages").asInt();
            }
        }
        return -1;
    }
}
