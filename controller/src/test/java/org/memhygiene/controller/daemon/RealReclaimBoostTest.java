package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.memhygiene.controller.host.HostProc;
import org.memhygiene.controller.policy.AdaptiveConfig;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.controller.policy.ReclaimBoostConfig;
import org.memhygiene.controller.policy.ScrubRules;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubPolicy;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmHostLock;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;

/**
 * The mechanism on this machine's real KSM, and the reclaim boost against it: a child process holds
 * 100 MiB of random data, MADV_MERGEABLE and in small pages, unmerged while ksmd ages it (smart_scan=1,
 * use_zero_pages=1) for 12 full scans, then zeroes it all, as a guest's freed memory looks after a scrub.
 * Without the boost, ksmd visits such a page once every 9 full scans and merges it on the second visit
 * after the zeroing; with the boost (the real PolicyStep and AdaptivePolicy writing the real
 * /sys/kernel/mm/ksm through KsmSysfs, the scrub asked as the API asks it) 90 % must be zero-merged
 * within 3 full scans, counted from the child's own ksm_zero_pages (/proc/PID/ksm_stat), and the knobs
 * must be back afterwards. The child stands in for a VM: its "agent" is the test's backend, which tells
 * it to zero its memory and reports what an agent reports; everything about KSM is real. Both figures
 * are printed. It waits on full scans, and puts every knob back, also when it fails.
 */
@ExtendWith(KsmHostLock.class)
class RealReclaimBoostTest {
    private static final long REGION_BYTES = 100L << 20;
    /** The first full scan after MADV_MERGEABLE creates the child's rmap items; each one after ages them by one. */
    private static final int AGE_FULL_SCANS = 13;

    private static final int TARGET_FULL_SCANS = 3;
    /** The control gives up after this many full scans (the issue measured 10). */
    private static final int CONTROL_MAX_FULL_SCANS = 30;
    /** Only against a hang (ksmd stopped by someone else): every wait is counted in full scans. */
    private static final Duration HANG_GUARD = Duration.ofMinutes(10);

    private static final String NAME = "aged-child";
    private static final String UUID = "00000000-0000-4000-8000-00000000a9ed";

    private final long page = LinuxMemory.pageSizeBytes();
    private final long pages = REGION_BYTES / page;

    /** What one run measured from the end of the zeroing to 90 % of the region zero-merged. */
    private record Run(
            long fullScans,
            boolean reached,
            double seconds,
            long pagesScanned,
            long pagesSkipped,
            long ksmdCpuMillis,
            long agingSkipped,
            List<String> decisions) {
        String describe() {
            String scans = fullScans + (fullScans == 1 ? " full scan" : " full scans");
            return (reached ? "90 % zero-merged after " + scans : "not 90 % after " + scans)
                    + String.format(
                            Locale.ROOT,
                            ", %.1f s, pages_scanned +%d, pages_skipped +%d, ksmd CPU" + " %d ms (%.1f %% of a core)",
                            seconds,
                            pagesScanned,
                            pagesSkipped,
                            ksmdCpuMillis,
                            seconds > 0 ? ksmdCpuMillis / seconds / 10 : 0);
        }
    }

    @Test
    void theBoostBringsAgedZeroedMemoryBackWithinThreeFullScans() throws Exception {
        Path ksm = KsmSysfs.DEFAULT_ROOT;
        Assumptions.assumeTrue(
                Files.isWritable(ksm.resolve("run")),
                "skipped: needs root and a kernel with KSM (" + ksm + "/run not writable)");
        Assumptions.assumeTrue(
                Files.exists(ksm.resolve("smart_scan"))
                        && Files.exists(ksm.resolve("ksm_zero_pages"))
                        && Files.exists(Path.of("/proc/self/ksm_stat")),
                "skipped: needs Linux 6.7+ (smart_scan, ksm_zero_pages, /proc/PID/ksm_stat)");
        KsmSysfs sysfs = new KsmSysfs(ksm, Clock.systemUTC(), page);
        Map<KsmKnob, String> base = new EnumMap<>(KsmKnob.class);
        base.put(KsmKnob.RUN, "1");
        base.put(KsmKnob.PAGES_TO_SCAN, "100");
        base.put(KsmKnob.SLEEP_MILLISECS, "20");
        base.put(KsmKnob.USE_ZERO_PAGES, "1");
        base.put(KsmKnob.SMART_SCAN, "1");
        if (Files.exists(ksm.resolve("advisor_mode"))) {
            base.put(KsmKnob.ADVISOR_MODE, "none"); // the advisor would own pages_to_scan
        }
        KsmSettings settings = KsmSettings.of(base);
        KsmRestorePoint restorePoint = KsmRestorePoint.before(sysfs, settings);
        Thread hook = restorePoint.restoreOnShutdown();
        Run control;
        Run boosted;
        try {
            sysfs.apply(settings);
            control = run(sysfs, false);
            sysfs.apply(settings);
            boosted = run(sysfs, true);
            assertEquals(base, sysfs.currentValues(base.keySet()), "the boost put its knobs back");
        } finally {
            restorePoint.restore();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        assertEquals(
                restorePoint.previousValues(),
                sysfs.currentValues(restorePoint.previousValues().keySet()),
                "every knob is back to what it was");
        System.out.println("RealReclaimBoostTest: " + REGION_BYTES / (1 << 20) + " MiB (" + pages + " pages) of random"
                + " data, aged " + AGE_FULL_SCANS + " full scans unmerged, then zeroed; ksmd at pages_to_scan 100,"
                + " sleep_millisecs 20, use_zero_pages 1\n  without the boost (smart_scan 1; pages_skipped +"
                + control.agingSkipped() + " while aging): " + control.describe()
                + "\n  with the boost (pages_skipped +"
                + boosted.agingSkipped() + " while aging): " + boosted.describe() + "\n  the boost's decisions:\n    "
                + String.join("\n    ", boosted.decisions()));
        assertTrue(
                boosted.reached() && boosted.fullScans() <= TARGET_FULL_SCANS,
                "with the boost: " + boosted.describe() + "; decisions: " + boosted.decisions());
        assertTrue(
                !control.reached() || control.fullScans() > boosted.fullScans(),
                "without the boost it takes longer: " + control.describe() + " against " + boosted.describe());
    }

    private Run run(KsmSysfs sysfs, boolean boost) throws Exception {
        try (ChildHost host = ChildHost.start(sysfs, pages)) {
            List<PolicyStep.Record> records = new ArrayList<>();
            // The daemon's step sees every sample, from before the aging on, as in a daemon that runs all along.
            PolicyStep step = boost
                    ? new PolicyStep(
                            config().policy(),
                            mode -> config().withMode(mode).policy(),
                            Duration.ofHours(1),
                            host,
                            false,
                            records::add)
                    : null;
            try {
                KsmStats ready = sysfs.read();
                KsmStats aged = waitForFullScans(host, step, fullScans(ready) + AGE_FULL_SCANS);
                long agingSkipped =
                        aged.pagesSkipped().orElse(0) - ready.pagesSkipped().orElse(0);
                VmSnapshot child = host.snapshot().vms().get(0);
                long merged = child.ksm().map(k -> k.stat().savedPages()).orElse(0L);
                assertTrue(merged < pages / 100, "random data merges with nothing: " + child.ksm());
                long cpuBefore = host.proc.ksmdCpuMillis().orElse(0);
                long started = System.nanoTime();
                if (step != null) {
                    step.scrub(UUID, NAME, REGION_BYTES, Duration.ofMinutes(1)); // as POST /api/v1/vms/NAME/scrub does
                } else {
                    host.scrub(UUID, REGION_BYTES, Duration.ofMinutes(1));
                }
                KsmStats zeroed = sysfs.read();
                Run result = null;
                long deadline = System.nanoTime() + HANG_GUARD.toNanos();
                while (result == null) {
                    HostSnapshot sample = host.snapshot();
                    if (step != null) {
                        step.accept(sample);
                    }
                    KsmStats now = sample.ksm().orElseThrow().stats();
                    long scans = fullScans(now) - fullScans(zeroed);
                    long zeroPages = sample.vms()
                            .get(0)
                            .ksm()
                            .flatMap(k -> k.stat().zeroPages().isPresent()
                                    ? Optional.of(k.stat().zeroPages().getAsLong())
                                    : Optional.empty())
                            .orElse(0L);
                    boolean reached = zeroPages >= pages * 9 / 10;
                    if (reached || scans > (boost ? TARGET_FULL_SCANS + 2 : CONTROL_MAX_FULL_SCANS)) {
                        result = new Run(
                                scans,
                                reached,
                                (System.nanoTime() - started) / 1e9,
                                now.pagesScanned().orElse(0)
                                        - zeroed.pagesScanned().orElse(0),
                                now.pagesSkipped().orElse(0)
                                        - zeroed.pagesSkipped().orElse(0),
                                host.proc.ksmdCpuMillis().orElse(0) - cpuBefore,
                                agingSkipped,
                                List.of());
                    }
                    hangGuard(deadline);
                    Thread.sleep(100);
                }
                if (step == null) {
                    return result;
                }
                // Let the boost see the growth stop and end (at most max_full_scans after the scrub).
                while (records.stream().noneMatch(r -> r.decision().reason().startsWith("reclaim boost ended"))) {
                    step.accept(host.snapshot());
                    hangGuard(deadline);
                    Thread.sleep(100);
                }
                return new Run(
                        result.fullScans(),
                        result.reached(),
                        result.seconds(),
                        result.pagesScanned(),
                        result.pagesSkipped(),
                        result.ksmdCpuMillis(),
                        agingSkipped,
                        records.stream()
                                .filter(r -> r.decision().reason().startsWith("reclaim boost"))
                                .map(r -> r.decision().reason() + " (" + r.outcome() + ")")
                                .toList());
            } finally {
                if (step != null) {
                    step.close(); // puts the boost's knobs back if it is still running
                }
            }
        }
    }

    /** ksmd in moderate memory (this machine's real /proc/meminfo never counts as tight or plentiful), deciding once an hour. */
    private static PolicyConfig config() {
        AdaptiveConfig d = AdaptiveConfig.DEFAULTS;
        AdaptiveConfig adaptive = new AdaptiveConfig(
                0,
                100,
                d.cpuBudgetPercent(),
                d.yieldGood(),
                d.yieldLow(),
                d.yieldLowIntervals(),
                d.yieldMinPagesScanned(),
                d.pagesToScanMin(),
                d.pagesToScanMax(),
                d.sleepMillisecsMin(),
                d.sleepMillisecsMax(),
                d.noYieldRetry());
        return new PolicyConfig(
                PolicyMode.ADAPTIVE,
                Duration.ofHours(1),
                PolicyConfig.defaults().ksmtuned(),
                adaptive,
                ScrubRules.DEFAULTS,
                ReclaimBoostConfig.DEFAULTS);
    }

    /** Samples (through {@code step}, when there is one) until full_scans reaches {@code fullScans}. */
    private static KsmStats waitForFullScans(ChildHost host, PolicyStep step, long fullScans)
            throws InterruptedException {
        long deadline = System.nanoTime() + HANG_GUARD.toNanos();
        while (true) {
            HostSnapshot sample = host.snapshot();
            if (step != null) {
                step.accept(sample);
            }
            KsmStats stats = sample.ksm().orElseThrow().stats();
            if (fullScans(stats) >= fullScans) {
                return stats;
            }
            hangGuard(deadline);
            Thread.sleep(100);
        }
    }

    private static void hangGuard(long deadline) {
        if (System.nanoTime() > deadline) {
            throw new AssertionError("full_scans did not move for " + HANG_GUARD + ": is ksmd still running?");
        }
    }

    private static long fullScans(KsmStats stats) {
        return stats.fullScans().orElseThrow();
    }

    /**
     * A host of one VM, the child process: KSM, /proc/meminfo and ksmd's CPU as this machine has them, the
     * child's ksm_stat as the VM's, and an agent that is this backend, which asks the child to zero its
     * memory and counts the scrub as an agent does.
     */
    private static final class ChildHost implements HostBackend {
        final HostProc proc = new HostProc(Path.of("/proc"), LinuxThread.clockTicksPerSecond());
        private final KsmSysfs sysfs;
        private final ProcessKsmReader ksmStat = new ProcessKsmReader(ProcessKsmReader.DEFAULT_ROOT);
        private final Process child;
        private final BufferedReader out;
        private final PrintWriter in;
        private final long regionBytes;
        private volatile ScrubCounters counters = ScrubCounters.NONE;

        private ChildHost(KsmSysfs sysfs, Process child, long regionBytes) {
            this.sysfs = sysfs;
            this.child = child;
            this.regionBytes = regionBytes;
            this.out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            this.in = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        static ChildHost start(KsmSysfs sysfs, long pages) throws IOException {
            Process child = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-Xmx32m",
                            "-cp",
                            System.getProperty("java.class.path"),
                            AgedMemoryChild.class.getName(),
                            Long.toString(pages))
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            ChildHost host = new ChildHost(sysfs, child, pages * LinuxMemory.pageSizeBytes());
            String line = host.out.readLine();
            if (!"ready".equals(line)) {
                host.close();
                throw new IllegalStateException("the child did not map its memory: " + line);
            }
            return host;
        }

        @Override
        public HostSnapshot snapshot() {
            long started = System.nanoTime();
            Instant at = Instant.now();
            int pid = (int) child.pid();
            DomainSample domain =
                    new DomainSample(NAME, UUID, DomainState.RUNNING, 1, regionBytes, regionBytes, BalloonStats.NONE);
            DomainXml xml = new DomainXml(
                    NAME,
                    new DomainXml.MemoryBacking(false, false, false),
                    Optional.empty(),
                    Optional.empty(),
                    false,
                    Optional.empty());
            AgentSample agent = new AgentSample(
                    at,
                    AgentStatus.OK,
                    "",
                    Optional.empty(),
                    Optional.of(new AgentStats(
                            regionBytes, regionBytes, counters, new ScrubPolicy(0, 0, 0, 0, 0, 0, 0, 0))),
                    List.of(),
                    List.of());
            VmSnapshot vm = new VmSnapshot(
                    domain, Optional.of(xml), ksmStat.read(pid).map(s -> new DomainKsm(NAME, pid, s)), agent);
            return new HostSnapshot(
                    at,
                    "child:" + pid,
                    LinuxMemory.pageSizeBytes(),
                    Optional.of(sysfs.sample()),
                    Optional.of(proc.memory()),
                    proc.ksmdCpuMillis(),
                    List.of(vm),
                    Duration.ofNanos(System.nanoTime() - started),
                    List.of());
        }

        @Override
        public List<KsmChange> applyKsm(KsmSettings settings) {
            return sysfs.apply(settings);
        }

        @Override
        public ScrubReport scrub(String vmUuid, long maxBytes, Duration timeout) {
            long started = System.nanoTime();
            in.println("zero");
            try {
                String line = out.readLine();
                if (!"zeroed".equals(line)) {
                    throw new IllegalStateException("the child did not zero its memory: " + line);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            ScrubReport report = new ScrubReport(
                    ScrubReport.Outcome.COMPLETED,
                    "",
                    regionBytes,
                    regionBytes,
                    millis,
                    regionBytes * 1000.0 / millis,
                    1,
                    0);
            counters = counters.plus(report);
            return report;
        }

        @Override
        public AgentHello ping(String vm) {
            throw new UnsupportedOperationException("the child has no agent to ping");
        }

        @Override
        public DedupProbeReport probeDedup(DedupProbeRequest request) {
            throw new UnsupportedOperationException("the child has no agent to probe");
        }

        @Override
        public Optional<HostFacts> facts() {
            return Optional.empty();
        }

        @Override
        public List<String> enableBalloonStats(Duration period) {
            return List.of();
        }

        @Override
        public String describe() {
            return "the test's child process " + child.pid();
        }

        @Override
        public void close() {
            in.close();
            try {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
