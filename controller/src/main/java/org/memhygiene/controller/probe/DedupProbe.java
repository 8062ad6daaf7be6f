package org.memhygiene.controller.probe;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.IntStream;
import org.memhygiene.controller.agentlink.AgentLink;
import org.memhygiene.core.agent.AgentLinkException;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeReport.GuestView;
import org.memhygiene.core.probe.DedupProbeReport.HostTruth;
import org.memhygiene.core.probe.DedupProbeReport.KsmAtProbe;
import org.memhygiene.core.probe.DedupProbeReport.Outcome;
import org.memhygiene.core.probe.DedupProbeReport.PairProbe;
import org.memhygiene.core.probe.DedupProbeReport.Verdict;
import org.memhygiene.core.probe.DedupProbeReport.VmProbe;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.core.probe.RankTest;
import org.memhygiene.core.procmem.ProcMemException;

/**
 * The deduplication canary across VMs (docs/POSTURE.md, "The deduplication canary"): plants one nonce's
 * canary in every VM's agent, waits for ksmd's full scans with the knobs as they are, reads the host's truth
 * (which canary pages share a KSM frame across VMs, {@link CanaryLocator}) and the guests' view (their
 * canary writes against their control writes, {@link RankTest}), and releases every canary, also on failure.
 * A VM whose agent is missing, refuses or answers inconsistently gets a row that says so; the other VMs are
 * probed as if it were not there. Where the host's truth and a guest's view disagree the host decides: a
 * guest cannot make its host look merged or unmerged.
 */
public final class DedupProbe {
    /** How often the wait reads full_scans: ksmd's progress is the event waited for, this only its sampling. */
    private static final Duration POLL = Duration.ofMillis(100);
    /** canary-plant of 1024 pages took about 1 s in the agent's JIT-less JVM; a TCG guest is slower. */
    private static final Duration AGENT_CALL = Duration.ofSeconds(60);

    /**
     * One VM to probe.
     *
     * @param agent   its agent link, if it has an agent channel and runs
     * @param noAgent why it has no link, when it has none
     * @param pid     its QEMU process, where this machine's /proc shows it
     */
    public record Target(String name, String uuid, Optional<AgentLink> agent, String noAgent, OptionalInt pid) {}

    private final Clock clock;
    private final Optional<KsmSysfs> ksm;
    private final Optional<Path> procRoot;
    private final long pageSizeBytes;
    private final SecureRandom random = new SecureRandom();

    /**
     * @param ksm      this machine's KSM, when the VMs run here (else the wait is the deadline's)
     * @param procRoot this machine's /proc, when the VMs run here (else no host truth)
     */
    public DedupProbe(Clock clock, Optional<KsmSysfs> ksm, Optional<Path> procRoot, long pageSizeBytes) {
        this.clock = clock;
        this.ksm = ksm;
        this.procRoot = procRoot;
        this.pageSizeBytes = pageSizeBytes;
    }

    private static final class Row {
        final Target target;
        Outcome outcome = Outcome.PROBED;
        String detail = "";
        boolean planted;
        Optional<CanaryLocator.Located> located = Optional.empty();
        Optional<GuestView> guest = Optional.empty();

        Row(Target target) {
            this.target = target;
        }

        void fail(Outcome why, String what) {
            outcome = why;
            detail = what;
        }
    }

    public DedupProbeReport run(DedupProbeRequest request, List<Target> targets) {
        byte[] nonceBytes = new byte[CanaryBounds.MAX_NONCE_BYTES];
        random.nextBytes(nonceBytes);
        String nonce = CanaryBounds.hex(nonceBytes);
        int pages = Math.min(request.pages(), CanaryBounds.maxPages(pageSizeBytes));
        long leaseMillis = Math.min(
                CanaryBounds.MAX_LEASE_MILLIS,
                request.deadline().plus(Duration.ofMinutes(5)).toMillis());
        List<Row> rows = targets.stream().map(Row::new).toList();
        Instant started = clock.instant();
        try {
            plantAll(rows, nonce, pages, leaseMillis);
            // Counted from when every canary is planted: a page merges only once its twin exists.
            KsmStats before = ksm.map(KsmSysfs::read).orElse(null);
            long deadline = System.nanoTime() + request.deadline().toNanos();
            String waited = awaitFullScans(request, before, rows.stream().anyMatch(r -> r.planted), deadline);
            String method = hostTruth(rows, nonceBytes, pages);
            KsmStats after = ksm.map(KsmSysfs::read).orElse(null);
            Instant measured = clock.instant();
            for (Row row : rows) {
                if (row.planted) {
                    time(row, nonce, pages);
                }
            }
            return report(nonce, pages, started, measured, ksmAtProbe(request, before, after, waited), method, rows);
        } finally {
            for (Row row : rows) {
                if (row.planted) {
                    try {
                        row.target.agent().orElseThrow().canaryRelease(nonce, AGENT_CALL);
                    } catch (AgentLinkException e) {
                        // The link dropped its connection: the agent releases a canary whose session ended.
                        row.detail = (row.detail.isEmpty() ? "" : row.detail + "; ")
                                + "canary-release failed (" + e.getMessage()
                                + "); the agent releases it as its session ended";
                    }
                }
            }
        }
    }

    /**
     * Plants in every VM at once: one agent fills 1024 pages in about a second, and a canary page that waits
     * for its twin in another VM is scanned alone meanwhile, which smart_scan counts against it: it then skips
     * the page for 1, 2, 4 and at last 8 full scans at a time (mm/ksm.c, should_skip_rmap_item), and two twins
     * skipped in different phases may not meet in the unstable tree of one scan for a long time.
     */
    private void plantAll(List<Row> rows, String nonce, int pages, long leaseMillis) {
        List<Thread> planters = new ArrayList<>();
        for (Row row : rows) {
            Thread planter = new Thread(
                    () -> plant(row, nonce, pages, leaseMillis), "memhygiene-probe-plant-" + row.target.name());
            planter.start();
            planters.add(planter);
        }
        boolean interrupted = false;
        for (Thread planter : planters) {
            // Every plant is waited for, interrupted or not: a canary planted unseen would not be released.
            while (planter.isAlive()) {
                try {
                    planter.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void plant(Row row, String nonce, int pages, long leaseMillis) {
        if (row.target.agent().isEmpty()) {
            row.fail(Outcome.NO_AGENT, row.target.noAgent());
            return;
        }
        try {
            row.target.agent().get().canaryPlant(nonce, pages, leaseMillis, AGENT_CALL);
            row.planted = true;
        } catch (AgentLinkException e) {
            row.fail(
                    e.status() == AgentStatus.AGENT_ERROR ? Outcome.REFUSED : Outcome.NO_AGENT,
                    "canary-plant: " + e.getMessage());
        }
    }

    /**
     * Waits until ksmd has completed the full scans asked for since planting, or the deadline: with KSM
     * stopped nothing can merge and the probe measures at once.
     */
    private String awaitFullScans(DedupProbeRequest request, KsmStats before, boolean anyPlanted, long deadline) {
        if (!anyPlanted) {
            return "no canary planted: nothing to wait for";
        }
        if (before == null || before.fullScans().isEmpty()) {
            sleep(request.deadline());
            return "KSM is not visible here: waited the deadline of "
                    + request.deadline().toSeconds() + " s";
        }
        if (!before.merging()) {
            return "KSM does not run (run=" + before.run().orElse(-1) + "): nothing merges";
        }
        long start = before.fullScans().getAsLong();
        long reached = awaitScan(start + request.fullScans(), deadline);
        if (reached < 0) {
            return "KSM stopped while the probe waited";
        }
        if (reached < start + request.fullScans()) {
            return "deadline of " + request.deadline().toSeconds() + " s: " + (reached - start) + " of "
                    + request.fullScans() + " full scans";
        }
        return request.fullScans() + " full scans";
    }

    /** Waits until full_scans reaches {@code target}; returns where it is then, or -1 when KSM stopped. */
    private long awaitScan(long target, long deadline) {
        long now = ksm.orElseThrow().read().fullScans().orElse(0);
        while (now < target
                && System.nanoTime() < deadline
                && !Thread.currentThread().isInterrupted()) {
            sleep(POLL);
            KsmStats stats = ksm.orElseThrow().read();
            if (!stats.merging()) {
                return -1;
            }
            now = stats.fullScans().orElse(now);
        }
        return now;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Locates every planted canary in its QEMU process; returns how the frames were read. */
    private String hostTruth(List<Row> rows, byte[] nonce, int pages) {
        if (procRoot.isEmpty()) {
            return "none: the VMs' host is another machine";
        }
        CanaryLocator locator = new CanaryLocator(procRoot.get(), pageSizeBytes);
        boolean framesVisible = false;
        boolean any = false;
        List<String> problems = new ArrayList<>();
        for (Row row : rows) {
            if (!row.planted) {
                continue;
            }
            if (row.target.pid().isEmpty()) {
                problems.add(row.target.name() + ": its QEMU process is not known here");
                continue;
            }
            try {
                CanaryLocator.Located located = locator.locate(row.target.pid().getAsInt(), nonce, pages);
                row.located = Optional.of(located);
                any = true;
                framesVisible |= located.framesVisible();
            } catch (ProcMemException e) {
                problems.add(row.target.name() + ": " + e.getMessage());
            }
        }
        String method = !any ? "none" : framesVisible ? "pagemap+kpageflags" : "pagemap-exclusive";
        return problems.isEmpty() ? method : method + " (" + String.join("; ", problems) + ")";
    }

    private void time(Row row, String nonce, int pages) {
        CanaryTimings timings;
        try {
            timings = row.target.agent().orElseThrow().canaryTime(nonce, AGENT_CALL);
        } catch (AgentLinkException e) {
            row.detail = "canary-time: " + e.getMessage();
            return;
        }
        Optional<String> wrong = inconsistency(timings, nonce, pages);
        if (wrong.isPresent()) {
            row.fail(Outcome.INCONSISTENT, "canary-time: " + wrong.get() + "; its timings are not used");
            return;
        }
        long[] canary =
                timings.canary().nanos().stream().mapToLong(Long::longValue).toArray();
        long[] control =
                timings.control().nanos().stream().mapToLong(Long::longValue).toArray();
        RankTest test = RankTest.greater(canary, control);
        row.guest = Optional.of(new GuestView(
                test.slowerMedianNanos(),
                test.fasterMedianNanos(),
                timings.canary().summary().p90Nanos(),
                timings.control().summary().p90Nanos(),
                test.u(),
                test.z(),
                test.pValue(),
                test.significant()));
    }

    /** What is wrong with an agent's timings: another nonce, pages it did not plant, times missing. */
    static Optional<String> inconsistency(CanaryTimings timings, String nonce, int pages) {
        if (!nonce.equalsIgnoreCase(timings.nonce())) {
            return Optional.of("the reply is for another nonce");
        }
        for (var kind : List.of(timings.canary(), timings.control())) {
            if (kind.nanos().size() != pages || kind.pageIndices().size() != pages) {
                return Optional.of("it timed " + kind.nanos().size() + " writes of "
                        + kind.pageIndices().size() + " pages, not " + pages);
            }
            Set<Integer> indices = new HashSet<>(kind.pageIndices());
            if (indices.size() != pages || !indices.stream().allMatch(i -> i >= 0 && i < pages)) {
                return Optional.of(
                        "it timed pages it did not plant (page indices not each of 0 to " + (pages - 1) + ")");
            }
            if (kind.nanos().stream().anyMatch(n -> n < 0)) {
                return Optional.of("a negative write time");
            }
        }
        return Optional.empty();
    }

    private static KsmAtProbe ksmAtProbe(DedupProbeRequest request, KsmStats before, KsmStats after, String waited) {
        if (before == null || after == null) {
            return new KsmAtProbe(-1, null, null, null, 0, request.fullScans(), waited);
        }
        return new KsmAtProbe(
                (int) before.run().orElse(-1),
                before.smartScan().isPresent() ? before.smartScan().getAsLong() == 1 : null,
                before.useZeroPages().isPresent() ? before.useZeroPages().getAsLong() == 1 : null,
                before.mergeAcrossNodes().isPresent()
                        ? before.mergeAcrossNodes().getAsLong() == 1
                        : null,
                after.fullScans().orElse(0) - before.fullScans().orElse(0),
                request.fullScans(),
                waited);
    }

    private DedupProbeReport report(
            String nonce, int pages, Instant started, Instant measured, KsmAtProbe ksm, String method, List<Row> rows) {
        List<PairProbe> pairs = new ArrayList<>();
        int[] mergedAcross = new int[rows.size()];
        boolean[][] across = new boolean[rows.size()][pages];
        for (int a = 0; a < rows.size(); a++) {
            for (int b = a + 1; b < rows.size(); b++) {
                Optional<CanaryLocator.Located> la = rows.get(a).located;
                Optional<CanaryLocator.Located> lb = rows.get(b).located;
                if (la.isEmpty() || lb.isEmpty()) {
                    continue;
                }
                int merged = 0;
                for (int i = 0; i < pages; i++) {
                    if (mergedPage(la.get(), lb.get(), i)) {
                        merged++;
                        across[a][i] = true;
                        across[b][i] = true;
                    }
                }
                pairs.add(new PairProbe(
                        rows.get(a).target.name(), rows.get(b).target.name(), merged));
            }
        }
        List<VmProbe> vms = new ArrayList<>();
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            boolean[] mine = across[r];
            mergedAcross[r] =
                    (int) IntStream.range(0, pages).filter(i -> mine[i]).count();
            Optional<HostTruth> host =
                    row.located.map(l -> new HostTruth(l.foundCount(), l.ksmCount(), mergedAcross[rows.indexOf(row)]));
            vms.add(new VmProbe(
                    row.target.name(),
                    row.target.uuid(),
                    row.outcome,
                    detail(row, host),
                    host,
                    row.guest,
                    verdict(row, host)));
        }
        return new DedupProbeReport(nonce, pages, pageSizeBytes, started, measured, ksm, method, vms, pairs);
    }

    /** Page {@code i} of both is backed by one KSM frame (or, frames unseen, shared in both). */
    private static boolean mergedPage(CanaryLocator.Located a, CanaryLocator.Located b, int i) {
        if (!a.ksm()[i] || !b.ksm()[i]) {
            return false;
        }
        return a.framesVisible() && b.framesVisible() ? a.frames()[i] == b.frames()[i] : true;
    }

    private static Verdict verdict(Row row, Optional<HostTruth> host) {
        if (host.isPresent()) {
            return host.get().canaryPagesMergedAcrossVms() > 0 ? Verdict.OBSERVED : Verdict.NOT_OBSERVED;
        }
        return row.guest
                .map(g -> g.observed() ? Verdict.OBSERVED : Verdict.NOT_OBSERVED)
                .orElse(Verdict.UNKNOWN);
    }

    private static String detail(Row row, Optional<HostTruth> host) {
        if (host.isEmpty() || row.guest.isEmpty()) {
            return row.detail;
        }
        boolean merged = host.get().canaryPagesMergedAcrossVms() > 0;
        if (merged == row.guest.get().observed()) {
            return row.detail;
        }
        String disagreement = merged
                ? "the host merged " + host.get().canaryPagesMergedAcrossVms()
                        + " canary pages with other VMs, but the guest's writes did not show it (p = "
                        + String.format(Locale.ROOT, "%.3g", row.guest.get().pValue()) + ")"
                : "the guest's writes look merged (p = "
                        + String.format(Locale.ROOT, "%.3g", row.guest.get().pValue())
                        + "), but the host merged none of its canary pages with another VM's: the host decides";
        return row.detail.isEmpty() ? disagreement : row.detail + "; " + disagreement;
    }
}
