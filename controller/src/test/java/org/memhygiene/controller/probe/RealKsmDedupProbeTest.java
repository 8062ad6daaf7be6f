package org.memhygiene.controller.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.AgentJvm;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.host.GuestMemorySettings;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmHostLock;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeReport.Outcome;
import org.memhygiene.core.probe.DedupProbeReport.Verdict;
import org.memhygiene.core.probe.DedupProbeReport.VmProbe;
import org.memhygiene.core.probe.DedupProbeRequest;

/**
 * The whole probe through the backend's seam on this host's real KSM, with real agents standing in for
 * guests (ProbeAgent: the agent's JVM and flags, in a process whose command line names it as a domain's QEMU):
 * test-driver domains A and B (their agents' memory mergeable, as QEMU marks guest RAM), C (not mergeable, as
 * with {@code <nosharepages/>}) and D (running, no agent channel). LinuxHost finds the processes by their pid
 * files, plants one nonce in A, B and C, waits for ksmd's full scans, reads each process's memory, pagemap and
 * kpageflags, has each agent time its writes and releases the canaries. Changes run, pages_to_scan,
 * sleep_millisecs (and advisor_mode) for the probe and puts them back, also on failure.
 */
@ExtendWith(KsmHostLock.class)
class RealKsmDedupProbeTest {
    private static final int PAGES = 256;

    @TempDir
    Path dir;

    private Process start(String name, boolean merge, Path pids) throws Exception {
        Path socket = dir.resolve(name + ".sock");
        // The agent's JVM as its launcher starts it (no JIT): the write times are the production agent's.
        List<String> command = AgentJvm.command(
                ProbeAgent.class, "-name", "guest=" + name, merge ? "merge" : "plain", "--listen", "unix:" + socket);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        builder.environment().remove("MEMHYGIENE_AGENT_CONFIG");
        Process process = builder.start();
        TestAgent.connectWhenListening(socket).close();
        Files.writeString(pids.resolve(name + ".pid"), Long.toString(process.pid()));
        return process;
    }

    @Test
    void theHostSeesACanaryMergedAcrossVmsAndTheGuestsCanTimeIt() throws Exception {
        Path ksm = KsmSysfs.DEFAULT_ROOT;
        Assumptions.assumeTrue(
                Files.isWritable(ksm.resolve("run")) && Files.isReadable(Path.of("/proc/kpageflags")),
                "RealKsmDedupProbeTest skipped: needs root, KSM and /proc/kpageflags");
        try {
            LinuxMemory.processMemoryMerge();
        } catch (RuntimeException e) {
            Assumptions.abort(
                    "RealKsmDedupProbeTest skipped: needs prctl(PR_GET_MEMORY_MERGE), Linux 6.4+: " + e.getMessage());
        }
        Path pids = Files.createDirectories(dir.resolve("pids"));
        String uri = new TestDriverHost()
                .domain("A", true, Optional.of(dir.resolve("A.sock")), false)
                .domain("B", true, Optional.of(dir.resolve("B.sock")), false)
                .domain("C", true, Optional.of(dir.resolve("C.sock")), true)
                .domain("D", true, Optional.empty(), false)
                .write(dir.resolve("host.xml"));
        KsmSysfs sysfs = new KsmSysfs(ksm, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
        List<String> fast = new ArrayList<>(List.of("run=1", "pages_to_scan=5000", "sleep_millisecs=10"));
        if (Files.exists(ksm.resolve("advisor_mode"))) {
            fast.add("advisor_mode=none"); // pages_to_scan is the advisor's while it runs
        }
        if (Files.exists(ksm.resolve("smart_scan"))) {
            // At this test's rate ksmd runs ~20 full scans a second, so a canary page ages while its twin is
            // still being written (planting takes a second), and aged twins skipped in different phases need
            // not meet (DedupProbe.plantAll). On a host at KSM's own rate a full scan takes minutes.
            fast.add("smart_scan=0");
        }
        KsmSettings scan = KsmSettings.parse(fast);
        KsmRestorePoint restorePoint = KsmRestorePoint.before(sysfs, scan);
        Thread hook = restorePoint.restoreOnShutdown();
        List<Process> agents = new ArrayList<>();
        DedupProbeReport report;
        try (LinuxHost host = new LinuxHost(
                uri,
                Duration.ofSeconds(10),
                Duration.ZERO,
                ksm,
                Path.of("/proc"),
                Path.of("/sys"),
                Clock.systemUTC(),
                GuestMemorySettings.ONE_SHOT.withQemuPidDir(Optional.of(pids)))) {
            agents.add(start("A", true, pids));
            agents.add(start("B", true, pids));
            agents.add(start("C", false, pids));
            sysfs.apply(scan);
            report = host.probeDedup(new DedupProbeRequest(List.of(), PAGES, 3, Duration.ofMinutes(5)));
            System.out.println("RealKsmDedupProbeTest: " + Json.mapper().writeValueAsString(report));

            // Nothing of the canary stays: every agent zeroed and unmapped it.
            CanaryLocator locator = new CanaryLocator(Path.of("/proc"), LinuxMemory.pageSizeBytes());
            byte[] nonce = HexFormat.of().parseHex(report.nonce());
            for (Process agent : agents) {
                assertEquals(
                        0,
                        locator.locate((int) agent.pid(), nonce, PAGES).foundCount(),
                        "no canary page is left in process " + agent.pid());
            }
        } finally {
            for (Process agent : agents) {
                agent.destroy();
                agent.waitFor(10, TimeUnit.SECONDS);
            }
            restorePoint.restore();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        assertEquals(
                restorePoint.previousValues(),
                sysfs.currentValues(restorePoint.previousValues().keySet()),
                "every knob is back to what it was");

        assertEquals("pagemap+kpageflags", report.hostTruthMethod());
        assertTrue(report.ksm().fullScansWaited() >= 3, "waited for 3 full scans: " + report.ksm());
        Map<String, VmProbe> vms = new HashMap<>();
        report.vms().forEach(v -> vms.put(v.name(), v));
        for (String name : List.of("A", "B")) {
            VmProbe vm = vms.get(name);
            assertEquals(Outcome.PROBED, vm.outcome(), vm.toString());
            assertEquals(PAGES, vm.host().orElseThrow().canaryPagesFound(), vm.toString());
            assertEquals(PAGES, vm.host().orElseThrow().canaryPagesMergedAcrossVms(), vm.toString());
            assertEquals(Verdict.OBSERVED, vm.verdict(), vm.toString());
            assertTrue(vm.guest().orElseThrow().observed(), "the guest times its merged canary: " + vm);
        }
        VmProbe c = vms.get("C");
        assertEquals(Outcome.PROBED, c.outcome(), c.toString());
        assertEquals(PAGES, c.host().orElseThrow().canaryPagesFound(), c.toString());
        assertEquals(0, c.host().orElseThrow().canaryPagesKsm(), c.toString());
        assertEquals(Verdict.NOT_OBSERVED, c.verdict(), c.toString());
        assertFalse(c.guest().orElseThrow().observed(), "nothing of C merged, nothing to time: " + c);
        VmProbe d = vms.get("D");
        assertEquals(Outcome.NO_AGENT, d.outcome(), d.toString());
        assertEquals(Verdict.UNKNOWN, d.verdict());
        assertTrue(d.detail().contains("channel"), d.detail());
        assertEquals(
                List.of(
                        new DedupProbeReport.PairProbe("A", "B", PAGES),
                        new DedupProbeReport.PairProbe("A", "C", 0),
                        new DedupProbeReport.PairProbe("B", "C", 0)),
                report.pairs());
    }
}
