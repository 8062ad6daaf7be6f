package org.memhygiene.controller.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Domain;
import org.memhygiene.controller.daemon.PolicyStep;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.guestmemory.GuestRamChild;
import org.memhygiene.controller.host.GuestMemorySettings;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.ksm.SysfsTree;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.ZeroPageOnRead;

/**
 * /metrics from real snapshots (libvirt's test driver, KSM in a sysfs tree with known counters), read
 * as text and scraped by a real Prometheus server (Debian's prometheus package) on loopback.
 */
class HostMetricsTest {
    @TempDir
    Path dir;

    private LinuxHost host;
    private SnapshotLoop loop;
    private PolicyStep policy;
    private SysfsTree ksm;
    /** Where the QEMU processes' pid files are, for a test whose VMs have one (a real process standing in). */
    private Optional<Path> pidDir = Optional.empty();

    private HostMetrics metrics(String... vms) throws Exception {
        TestDriverHost driver = new TestDriverHost();
        for (String vm : vms) {
            driver.domain(vm, true, Optional.empty(), false);
        }
        String uri = driver.write(dir.resolve("host-" + vms.length + ".xml"));
        ksm = SysfsTree.create(dir)
                .put("run", "1")
                .put("pages_sharing", "1000")
                .put("ksm_zero_pages", "250")
                .put("full_scans", "7");
        host = new LinuxHost(
                uri,
                Duration.ofSeconds(1),
                Duration.ZERO,
                ksm.root(),
                Path.of("/proc"),
                Path.of("/sys"),
                Clock.systemUTC(),
                GuestMemorySettings.ONE_SHOT.withQemuPidDir(pidDir));
        // Posture from prepared host files: no swap, one unmitigated CPU vulnerability (docs/POSTURE.md).
        Path proc = Files.createDirectories(dir.resolve("proc"));
        Files.writeString(proc.resolve("swaps"), "Filename\tType\tSize\tUsed\tPriority\n");
        Path vulnerabilities = Files.createDirectories(dir.resolve("sys/devices/system/cpu/vulnerabilities"));
        Files.writeString(vulnerabilities.resolve("mds"), "Vulnerable: Clear CPU buffers attempted, no microcode\n");
        PostureScorer posture = new PostureScorer(() -> Optional.of(HostFacts.read(proc, dir.resolve("sys"))));
        PolicyConfig config = PolicyConfig.defaults().withMode(PolicyMode.BASELINE);
        policy = new PolicyStep(
                config.policy(), mode -> config.withMode(mode).policy(), config.interval(), host, true, r -> {});
        loop = new SnapshotLoop(host, Duration.ofSeconds(1), Clock.systemUTC(), List.of(policy, posture::score));
        loop.tick();
        return new HostMetrics(loop::latest, loop::status, posture, policy, 5, Optional::empty);
    }

    @AfterEach
    void close() {
        if (loop != null) {
            loop.close();
        }
        if (policy != null) {
            policy.close();
        }
        if (host != null) {
            host.close();
        }
    }

    @Test
    void hostKsmAndEveryVmAreExposedWithPrometheusNames() throws Exception {
        String text = metrics("web1", "db1").scrape();
        long page = LinuxMemory.pageSizeBytes();
        assertTrue(text.contains("\nmemhygiene_ksm_pages_sharing 1000.0\n"), text);
        assertTrue(text.contains("\nmemhygiene_ksm_zero_pages 250.0\n"), text);
        assertTrue(text.contains("\nmemhygiene_ksm_full_scans_total 7.0\n"), text);
        assertTrue(text.contains("# TYPE memhygiene_ksm_full_scans_total counter"), text);
        assertTrue(text.contains("memhygiene_ksm_saved_bytes{by=\"sharing\"} " + (double) (1000 * page)), text);
        assertTrue(text.contains("memhygiene_ksm_saved_bytes{by=\"zero_pages\"} " + (double) (250 * page)), text);
        assertTrue(text.contains("memhygiene_vm_agent_up{status=\"no_channel\",vm=\"web1\"} 0.0"), text);
        assertTrue(text.contains("memhygiene_vm_agent_up{status=\"no_channel\",vm=\"db1\"} 0.0"), text);
        assertTrue(text.contains("\nmemhygiene_samples_total 1.0\n"), text);
        assertTrue(text.contains("memhygiene_vm_balloon_unused_bytes{vm=\"web1\"}"), text);
        // The alert rules' ksmd CPU against the policy's budget (docs/FLEET.md).
        assertTrue(text.contains("\nmemhygiene_policy_ksmd_cpu_budget_percent 5.0\n"), text);
        assertTrue(text.contains("# TYPE memhygiene_ksmd_cpu_seconds_total counter"), text);
    }

    @Test
    void eachVmsGuestMemoryIsExposedByStateWithHowAndWhenItWasMeasured() throws Exception {
        long page = LinuxMemory.pageSizeBytes();
        try (GuestRamChild qemu = GuestRamChild.start("-name", "guest=web1")) {
            long ramPages = (1024L << 20) / page;
            qemu.map(ramPages, false);
            qemu.unique(0, 0, 300, 1);
            qemu.read(0, 300, 700); // the zero page, or resident where a read fault maps none (ZeroPageOnRead)
            long zero = ZeroPageOnRead.mapsZeroPage() ? 700 : 0;
            pidDir = Optional.of(Files.createDirectories(dir.resolve("pids")));
            Files.writeString(pidDir.get().resolve("web1.pid"), Integer.toString(qemu.pid()));
            String text = metrics("web1", "db1").scrape();
            assertTrue(
                    text.contains("memhygiene_vm_memory_bytes{state=\"resident\",vm=\"web1\"} "
                            + (double) ((1000 - zero) * page)),
                    text);
            assertTrue(
                    text.contains("memhygiene_vm_memory_bytes{state=\"zero\",vm=\"web1\"} " + (double) (zero * page)),
                    text);
            assertTrue(
                    text.contains("memhygiene_vm_memory_bytes{state=\"not_present\",vm=\"web1\"} "
                            + (double) ((ramPages - 1000) * page)),
                    text);
            assertTrue(text.contains("memhygiene_vm_memory_bytes{state=\"ksm\",vm=\"web1\"} 0.0"), text);
            double states = text.lines()
                    .filter(l -> l.startsWith("memhygiene_vm_memory_bytes{") && l.contains("vm=\"web1\""))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                    .sum();
            assertEquals((double) (ramPages * page), states, "the states add up to guest RAM");
            assertTrue(text.contains("memhygiene_vm_reclaimed_bytes{vm=\"web1\"} " + (double) (zero * page)), text);
            assertTrue(text.contains("memhygiene_vm_guest_memory_age_seconds{vm=\"web1\"} "), text);
            assertTrue(
                    text.lines()
                            .anyMatch(l -> l.startsWith("memhygiene_vm_guest_memory_method{description=\"pagemap_scan")
                                    && l.contains("vm=\"web1\"")
                                    && l.endsWith(" 1.0")),
                    text);
            assertTrue(
                    text.lines().noneMatch(l -> l.startsWith("memhygiene_vm_reclaimed_bytes{vm=\"db1\"}")),
                    "db1 has no QEMU process here: no figure, rather than 0");
        }
    }

    @Test
    void postureScoresFindingsAndPolicyDecisionsAreExposed() throws Exception {
        String text = metrics("web1", "db1").scrape();
        // KSM runs and merges (pages_sharing 1000) across two VMs that allow sharing: host.ksm.cross_vm_merging (HIGH),
        // use_zero_pages=0 (LOW), mds vulnerable (HIGH): 100 - 20 - 2 - 20.
        assertTrue(text.contains("memhygiene_posture_score{scope=\"host\",vm=\"\"} 58.0"), text);
        assertTrue(text.contains("memhygiene_posture_findings{scope=\"host\",severity=\"high\",vm=\"\"} 2.0"), text);
        // Each VM: vm.sharing.cross_vm (MEDIUM), vm.agent.absent (LOW): 100 - 8 - 2.
        assertTrue(text.contains("memhygiene_posture_score{scope=\"vm\",vm=\"web1\"} 90.0"), text);
        assertTrue(text.contains("memhygiene_posture_findings{scope=\"vm\",severity=\"medium\",vm=\"db1\"} 1.0"), text);
        assertTrue(
                text.contains("memhygiene_posture_findings{scope=\"vm\",severity=\"critical\",vm=\"db1\"} 0.0"), text);
        // Baseline (ksmtuned) in a dry run decided once on the first sample.
        assertTrue(text.contains("# TYPE memhygiene_policy_decisions_total counter"), text);
        assertTrue(
                text.lines()
                        .anyMatch(l -> l.startsWith("memhygiene_policy_decisions_total{mode=\"baseline\",outcome=\"")
                                && l.endsWith(" 1.0")),
                text);
        assertTrue(text.contains("memhygiene_policy_mode{mode=\"baseline\"} 1.0"), text);
        assertTrue(text.contains("\nmemhygiene_policy_dry_run 1.0\n"), text);
        assertTrue(text.contains("memhygiene_policy_last_decision_timestamp_seconds"), text);
        PolicyStep.Record last = policy.records().get(0);
        last.decision()
                .ksmAsMap()
                .forEach((knob, value) -> assertTrue(
                        text.contains("memhygiene_policy_last_decision_ksm{knob=\"" + knob + "\"} "
                                + Double.parseDouble(value)),
                        knob + " in " + text));
        policy.switchTo(PolicyMode.OFF, false, Instant.now());
        loop.tick();
        String after = new HostMetrics(
                        loop::latest, loop::status, PostureScorer.withoutHostFacts(), policy, 5, Optional::empty)
                .scrape();
        assertTrue(
                after.contains("memhygiene_policy_decisions_total{mode=\"off\",outcome=\"nothing_to_do\"} 1.0"), after);
        assertTrue(after.contains("memhygiene_policy_mode{mode=\"off\"} 1.0"), after);
        assertTrue(after.contains("\nmemhygiene_policy_dry_run 0.0\n"), after);
    }

    @Test
    void aVmThatIsGoneIsGoneFromTheNextScrapeAndValuesFollowTheLatestSnapshot() throws Exception {
        HostMetrics metrics = metrics("web1");
        Domain temp = host.libvirt()
                .connection()
                .domainCreateXML(
                        "<domain type='test'><name>temp</name><memory>65536</memory><os><type>hvm</type></os></domain>",
                        0);
        loop.tick();
        assertTrue(metrics.scrape().contains("vm=\"temp\""));
        temp.destroy(); // transient: gone
        ksm.put("pages_sharing", "5");
        loop.tick();
        String text = metrics.scrape();
        assertFalse(text.contains("vm=\"temp\""), text);
        assertTrue(text.contains("vm=\"web1\""), text);
        assertTrue(text.contains("\nmemhygiene_ksm_pages_sharing 5.0\n"), text);
    }

    @Test
    void aRealPrometheusScrapesAndQueriesIt() throws Exception {
        RealPrometheus.assumeInstalled("HostMetricsTest.aRealPrometheusScrapesAndQueriesIt");
        HostMetrics metrics = metrics("web1");
        HttpServer exporter = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        exporter.createContext("/metrics", exchange -> {
            byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        exporter.start();
        RealPrometheus prometheus = RealPrometheus.start(
                dir,
                "global:\n  scrape_interval: 1s\nscrape_configs:\n"
                        + "  - job_name: memhygiene\n    static_configs:\n      - targets: ['127.0.0.1:"
                        + exporter.getAddress().getPort() + "']\n");
        try {
            String value = null;
            for (int i = 0; i < 300 && value == null; i++) {
                Thread.sleep(100);
                JsonNode result = prometheus.query("memhygiene_ksm_pages_sharing");
                if (result.size() == 1) {
                    value = result.get(0).at("/value/1").asText();
                }
            }
            assertEquals("1000", value, "Prometheus scraped memhygiene_ksm_pages_sharing: " + prometheus.log());
            assertEquals(
                    "76",
                    prometheus
                            .query("memhygiene_posture_score{scope=\"host\"}")
                            .at("/0/value/1")
                            .asText(),
                    "the host's posture score, as Prometheus stored it:"
                            + " one VM merging (LOW), use_zero_pages=0 (LOW), mds vulnerable (HIGH)");
            assertEquals(
                    "1",
                    prometheus.query("up{job=\"memhygiene\"}").at("/0/value/1").asText(),
                    "the scrape itself succeeded");
        } finally {
            prometheus.close();
            exporter.stop(0);
        }
        assertFalse(prometheus.log().contains("level=error"));
    }
}
