package org.memhygiene.controller.policy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.units.ByteSize;

/**
 * memhygiene's own KSM policy (docs/POLICY.md, "Adaptive"): it scans only while host memory is tight
 * or the guests could make it so, as fast as merging pays and ksmd's CPU budget allows, backs off to
 * run=0 when merging yields nothing, and asks guests with much free memory to zero it so that KSM can
 * map it to the kernel's zero page. After any guest's scrub its {@link ReclaimBoost} makes ksmd reach the
 * zeroed memory promptly; while a boost runs, the other rules wait.
 *
 * <p>Its state between calls is small and explicit: the run of low-yield intervals, when it stopped KSM
 * for lack of yield, and when it last asked each guest to scrub. All times come from the samples, so a
 * recorded sequence of samples always gives the same decisions. Not thread-safe: one per policy loop.
 */
public final class AdaptivePolicy implements Policy {
    /** A page needs two passes of ksmd before it can merge (its checksum must be stable): ksm.rst. */
    static final int FULL_SCANS_BEFORE_JUDGING = 2;

    private final AdaptiveConfig config;
    private final ScrubRules scrub;
    private final ReclaimBoost boost;
    private int lowYieldStreak;
    private long fullScansInStreak;
    private Optional<Instant> stoppedForNoYieldAt = Optional.empty();
    private final Map<String, Instant> lastScrubByUuid = new HashMap<>();

    public AdaptivePolicy(AdaptiveConfig config, ScrubRules scrub, ReclaimBoostConfig reclaimBoost) {
        this.config = config;
        this.scrub = scrub;
        this.boost = new ReclaimBoost(reclaimBoost, config);
    }

    @Override
    public PolicyMode mode() {
        return PolicyMode.ADAPTIVE;
    }

    private enum Memory {
        TIGHT,
        MODERATE,
        PLENTIFUL
    }

    @Override
    public Optional<Decision> onSample(HostSnapshot current) {
        boolean boosting = boost.active();
        Optional<Decision> step = boost.step(current);
        if (boosting && !boost.active()) {
            resetYieldState(); // the boost's scanning is no measure of what the policy's own rate yields
        }
        return step;
    }

    @Override
    public void scrubbed(KnownScrub scrub) {
        boost.known(scrub);
    }

    @Override
    public boolean holdsKnobs() {
        return boost.active();
    }

    @Override
    public Optional<Decision> release(HostSnapshot latest, String why) {
        return boost.release(latest, why);
    }

    @Override
    public Decision decide(Optional<HostSnapshot> previous, HostSnapshot current) {
        // The daemon passes every sample to onSample first; a caller that does not (policy explain) gets
        // the boost's step here, with the previous sample as its baseline.
        previous.ifPresent(boost::observe);
        Optional<Decision> boosted = onSample(current);
        if (boosted.isPresent()) {
            return boosted.get();
        }
        if (boost.active()) {
            return Decision.leaveAsIs(
                    mode(),
                    "reclaim boost in progress: the scan settings are the boost's until the"
                            + " scrubbed VMs' zero-mapped memory stops growing; no other rule applies meanwhile");
        }
        if (current.ksm().isEmpty()) {
            return Decision.leaveAsIs(
                    mode(),
                    "no KSM on this host (no /sys/kernel/mm/ksm, or libvirt's host is"
                            + " another machine): nothing to decide");
        }
        if (current.memory().isEmpty()) {
            return Decision.leaveAsIs(mode(), "no /proc/meminfo for this host: cannot tell whether memory is tight");
        }
        KsmStats stats = current.ksm().get().stats();
        HostMemory memory = current.memory().get();
        Instant now = current.sampledAt();
        List<String> facts = new ArrayList<>();

        // Memory: MemAvailable against the thresholds, and what the guests could still take.
        long total = memory.memTotalBytes();
        long available = HostFigures.availableBytes(memory);
        String availableName = memory.memAvailableBytes().isPresent() ? "MemAvailable" : "MemFree+Buffers+Cached";
        long tight = total * config.memoryTightBelowPercent() / 100;
        long plentiful = total * config.memoryPlentifulAbovePercent() / 100;
        long committed = HostFigures.committedCurrentBytes(current);
        boolean guestsFit = committed + tight <= total;
        Memory state;
        if (available < tight) {
            state = Memory.TIGHT;
            facts.add("host " + availableName + " " + ByteSize.format(available) + " < "
                    + config.memoryTightBelowPercent() + "% threshold " + ByteSize.format(tight));
        } else if (available >= plentiful && guestsFit) {
            state = Memory.PLENTIFUL;
            facts.add("host " + availableName + " " + ByteSize.format(available) + " ≥ "
                    + config.memoryPlentifulAbovePercent() + "% threshold " + ByteSize.format(plentiful)
                    + " and guests' current memory " + ByteSize.format(committed) + " + " + ByteSize.format(tight)
                    + " ≤ MemTotal " + ByteSize.format(total));
        } else {
            state = Memory.MODERATE;
            facts.add("host " + availableName + " " + ByteSize.format(available) + " between "
                    + config.memoryTightBelowPercent() + "% (" + ByteSize.format(tight) + ") and "
                    + config.memoryPlentifulAbovePercent() + "% (" + ByteSize.format(plentiful) + ")"
                    + (guestsFit
                            ? ""
                            : " or guests' current memory " + ByteSize.format(committed) + " + "
                                    + ByteSize.format(tight) + " > MemTotal " + ByteSize.format(total)));
        }

        // What the last interval cost and yielded.
        Optional<HostFigures.Interval> interval = HostFigures.between(previous, current);
        OptionalDouble yield =
                interval.map(i -> i.yield(config.yieldMinPagesScanned())).orElse(OptionalDouble.empty());
        OptionalDouble cpu = interval.map(HostFigures.Interval::ksmdCpuPercent).orElse(OptionalDouble.empty());
        if (interval.isEmpty()) {
            facts.add("no previous sample: merge yield and ksmd CPU not measured yet");
        } else {
            HostFigures.Interval i = interval.get();
            if (yield.isPresent()) {
                facts.add("merge yield " + HostFigures.ratio(yield.getAsDouble()) + " merged pages per scanned page ("
                        + i.pagesMerged().getAsLong() + "/" + i.pagesScanned().getAsLong() + ")");
            } else {
                facts.add("merge yield not measured: "
                        + (i.unmeasuredYield().isEmpty()
                                ? "only " + i.pagesScanned().orElse(0) + " pages scanned (< "
                                        + config.yieldMinPagesScanned() + ")"
                                : i.unmeasuredYield()));
            }
            facts.add(
                    cpu.isPresent()
                            ? "ksmd used " + HostFigures.percent(cpu.getAsDouble()) + " of a core (budget "
                                    + HostFigures.percent(config.cpuBudgetPercent()) + ")"
                            : "ksmd CPU not measured");
        }
        if (yield.isPresent()) {
            if (yield.getAsDouble() < config.yieldLow()) {
                lowYieldStreak++;
                fullScansInStreak += interval.get().fullScans();
            } else {
                lowYieldStreak = 0;
                fullScansInStreak = 0;
            }
        }

        boolean running = stats.merging();
        long pages = stats.pagesToScan().orElse(config.pagesToScanMin());
        long sleep = stats.sleepMillisecs().orElse(config.sleepMillisecsMin());

        if (state == Memory.PLENTIFUL) {
            resetYieldState();
            stoppedForNoYieldAt = Optional.empty();
            if (!running) {
                return leave(facts, "KSM stays stopped");
            }
            return stop(facts, "stop scanning");
        }
        if (!running) {
            if (state == Memory.MODERATE) {
                return leave(facts, "memory is not tight: KSM stays stopped");
            }
            if (stoppedForNoYieldAt.isPresent()
                    && now.isBefore(stoppedForNoYieldAt.get().plus(config.noYieldRetry()))) {
                facts.add("KSM was stopped at " + stoppedForNoYieldAt.get() + " because merging yielded nothing");
                return leave(
                        facts, "stay stopped until " + stoppedForNoYieldAt.get().plus(config.noYieldRetry()));
            }
            stoppedForNoYieldAt = Optional.empty();
            resetYieldState();
            return run(current, stats, facts, "start KSM", config.pagesToScanMin(), config.sleepMillisecsMin(), true);
        }

        // Running: keep within bounds first, then the rules in order of precedence.
        ScanRate rate = ScanRate.within(pages, sleep, config);
        String action;
        if (cpu.isPresent() && cpu.getAsDouble() > config.cpuBudgetPercent()) {
            action = "over the CPU budget: scan less";
            rate = rate.slower(config.cpuBudgetPercent() / cpu.getAsDouble(), config);
        } else if (lowYieldStreak >= config.yieldLowIntervals() && fullScansInStreak >= FULL_SCANS_BEFORE_JUDGING) {
            facts.add("yield under " + HostFigures.ratio(config.yieldLow()) + " for " + lowYieldStreak
                    + " intervals and " + fullScansInStreak + " full scans");
            if (!rate.canGoSlower(config)) {
                resetYieldState();
                stoppedForNoYieldAt = Optional.of(now);
                return stop(
                        facts,
                        "merging yields nothing at the slowest scan: stop until " + now.plus(config.noYieldRetry()));
            }
            action = "merging yields nothing: back off";
            rate = rate.slower(0.5, config);
        } else if (yield.isPresent() && yield.getAsDouble() < config.yieldLow()) {
            action = "low yield for " + lowYieldStreak + " of " + config.yieldLowIntervals() + " intervals and "
                    + fullScansInStreak + " of " + FULL_SCANS_BEFORE_JUDGING + " full scans: wait before backing off";
        } else if (state == Memory.TIGHT && yield.isPresent() && yield.getAsDouble() >= config.yieldGood()) {
            if (cpu.isEmpty()) {
                action = "ksmd's CPU is unknown: no scale-up";
            } else {
                double factor = ScanRate.stepUp(cpu.getAsDouble(), config.cpuBudgetPercent());
                if (factor == 1) {
                    action = "at the CPU budget: hold";
                } else if (!rate.canGoFaster(config)) {
                    action = "already at the fastest bounds: hold";
                } else {
                    action = "good yield and tight memory: "
                            + (rate.pagesToScan() < config.pagesToScanMax() ? "scan more" : "sleep less")
                            + " within the CPU budget";
                    rate = rate.faster(factor, config);
                }
            }
        } else {
            action = "hold";
        }
        return run(current, stats, facts, action, rate.pagesToScan(), rate.sleepMillisecs(), state == Memory.TIGHT);
    }

    private void resetYieldState() {
        lowYieldStreak = 0;
        fullScansInStreak = 0;
    }

    private Decision leave(List<String> facts, String action) {
        return Decision.leaveAsIs(mode(), String.join("; ", facts) + " → " + action + ": leave as is");
    }

    private Decision stop(List<String> facts, String action) {
        return new Decision(
                Optional.of(KsmSettings.of(Map.of(KsmKnob.RUN, Long.toString(KsmKnob.RUN_STOP)))),
                List.of(),
                mode(),
                String.join("; ", facts) + " → " + action + ": run 1→0 (merged pages stay merged)");
    }

    /** KSM running with these scan settings and use_zero_pages=1; writes only what differs from now. */
    private Decision run(
            HostSnapshot current,
            KsmStats stats,
            List<String> facts,
            String action,
            long pages,
            long sleep,
            boolean memoryTight) {
        Map<KsmKnob, String> knobs = new EnumMap<>(KsmKnob.class);
        List<String> changes = new ArrayList<>();
        if (stats.advisorMode().filter("scan-time"::equals).isPresent()) {
            facts.add("advisor_mode=scan-time sets pages_to_scan");
        } else {
            change(knobs, changes, KsmKnob.PAGES_TO_SCAN, stats.pagesToScan().orElse(-1), pages);
        }
        change(knobs, changes, KsmKnob.SLEEP_MILLISECS, stats.sleepMillisecs().orElse(-1), sleep);
        if (stats.useZeroPages().isPresent()) {
            change(knobs, changes, KsmKnob.USE_ZERO_PAGES, stats.useZeroPages().getAsLong(), 1);
        }
        change(knobs, changes, KsmKnob.RUN, stats.run().orElse(-1), KsmKnob.RUN_MERGE);
        List<ScrubRequest> scrubs = memoryTight ? scrubs(current, facts) : List.of();
        String reason = String.join("; ", facts) + " → " + action + ": "
                + (changes.isEmpty() ? "leave as is" : String.join(", ", changes))
                + (scrubs.isEmpty()
                        ? ""
                        : "; scrub "
                                + String.join(
                                        ", ",
                                        scrubs.stream()
                                                .map(s -> s.vmName() + " (up to " + ByteSize.format(s.maxBytes()) + ")")
                                                .toList()));
        return new Decision(
                knobs.isEmpty() ? Optional.empty() : Optional.of(KsmSettings.of(knobs)), scrubs, mode(), reason);
    }

    private static void change(Map<KsmKnob, String> knobs, List<String> changes, KsmKnob knob, long now, long wanted) {
        if (now != wanted) {
            knobs.put(knob, Long.toString(wanted));
            changes.add(knob.fileName() + " " + (now < 0 ? "?" : Long.toString(now)) + "→" + wanted);
        }
    }

    /**
     * Guests to ask for a scrub while host memory is tight and KSM runs: a running domain whose memory KSM
     * may merge, whose agent is OK and reports at least min_guest_free_bytes MemAvailable, whose posture
     * is not SENSITIVE, and which was not asked within min_interval_per_vm; the ones with the most free
     * memory first, at most max_requests_per_decision, each for at most max_bytes_per_request.
     */
    private List<ScrubRequest> scrubs(HostSnapshot current, List<String> facts) {
        if (!scrub.enabled() || scrub.maxRequestsPerDecision() == 0) {
            return List.of();
        }
        Instant now = current.sampledAt();
        lastScrubByUuid.values().removeIf(last -> !now.isBefore(last.plus(scrub.minIntervalPerVm())));
        List<VmSnapshot> candidates = new ArrayList<>();
        for (VmSnapshot vm : current.vms()) {
            if (!vm.domain().state().hasQemuProcess()
                    || vm.agent().status() != AgentStatus.OK
                    || vm.agent().stats().isEmpty()
                    || vm.config()
                            .flatMap(DomainXml::posture)
                            .filter(p -> p == PostureLevel.SENSITIVE)
                            .isPresent()
                    || vm.sharingAllowed().filter(allowed -> !allowed).isPresent()
                    || vm.agent().stats().get().memAvailableBytes() < scrub.minGuestFreeBytes()) {
                continue;
            }
            Instant last = lastScrubByUuid.get(vm.domain().uuid());
            if (last != null && now.isBefore(last.plus(scrub.minIntervalPerVm()))) {
                continue;
            }
            candidates.add(vm);
        }
        candidates.sort(Comparator.comparingLong(
                        (VmSnapshot vm) -> vm.agent().stats().get().memAvailableBytes())
                .reversed()
                .thenComparing(vm -> vm.domain().name()));
        List<ScrubRequest> requests = new ArrayList<>();
        for (VmSnapshot vm : candidates.subList(0, Math.min(candidates.size(), scrub.maxRequestsPerDecision()))) {
            AgentStats guest = vm.agent().stats().get();
            requests.add(new ScrubRequest(
                    vm.domain().uuid(),
                    vm.domain().name(),
                    Math.min(scrub.maxBytesPerRequest(), guest.memAvailableBytes())));
            lastScrubByUuid.put(vm.domain().uuid(), now);
            facts.add("guest " + vm.domain().name() + " MemAvailable " + ByteSize.format(guest.memAvailableBytes())
                    + " ≥ " + ByteSize.format(scrub.minGuestFreeBytes()));
        }
        return requests;
    }
}
