package org.memhygiene.controller.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.posture.GuestFindings;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.core.units.Count;

/**
 * The reclaim boost (docs/POLICY.md, "Reclaim boost"): after guests' scrubs, ksmd is made to reach the
 * zeroed memory promptly whatever its smart-scan age, within the adaptive policy's ksmd CPU budget, until
 * the scrubbed VMs' zero-mapped memory stops growing; then the knobs it changed are put back.
 *
 * <p>Why it is needed (mm/ksm.c, linked from docs/POLICY.md): with smart_scan=1, {@code should_skip_rmap_item()}
 * ages every unmerged page by one per full scan and never resets the age (not when the page's contents,
 * and so its checksum, change), and a page aged 9 or more is visited once every 9 full scans. Freed guest
 * memory on a long-running host is at that age, and a zeroed page merges with the zero page only on the
 * second visit after the zeroing (its checksum must be stable), so the scrub's memory would come back
 * after 10 to 18 full scans instead of 2 to 3.
 *
 * <p>Scrubs are learnt two ways: directly ({@link #known}: the policy's own and the API's, with the agent's
 * report), and from the agents' scrub counters in every sample (the CLI's {@code vm scrub}, the agent's
 * own schedule, any other client); a scrub known directly is not counted again when the counters show it.
 * A guest kernel that zeroes what it frees (init_on_free=1) scrubs without being asked: a rise of its
 * MemAvailable counts as a scrub of that size ({@link #zeroedOnFree}).
 * Everything it decides comes from the samples and those reports: a recorded sequence gives the same
 * decisions. Not thread-safe: one per policy loop.
 */
final class ReclaimBoost {
    /**
     * Full scans after the last scrub before the growth is judged: the one in progress when the boost
     * started, then the two visits that the checksum gate needs (the first records the zeroed page's
     * checksum, the second merges it).
     */
    static final int FULL_SCANS_BEFORE_JUDGING = 3;
    /** The least time ksmd's CPU is measured over before the boost's rate is changed again. */
    static final Duration BUDGET_WINDOW = Duration.ofSeconds(5);
    /**
     * The most the scan rate is raised at the start of a boost; the budget windows take it on from there. The CPU
     * it starts from is that of a ksmd that mostly skipped aged pages and merged nothing; once smart_scan is off
     * and the zeroed pages merge (THP splits, zero-page mappings) each page costs more: the real-VM suite's ksmd
     * went from 5.3 % of a core to 35 % at 4× the rate (1.65× per page, over a 30 % budget), so twice as fast.
     */
    static final double START_STEP = 2;
    /** Scrub reports kept per VM for matching (a VM without agent stats never shows the ones known directly). */
    private static final int MAX_REMEMBERED_PER_VM = 16;

    private static final String COUNTERS =
            "seen in its agent's scrub counters (the CLI's vm scrub, the agent's own" + " schedule or another client)";

    private final ReclaimBoostConfig config;
    private final AdaptiveConfig bounds;
    /** Each VM's agent scrub counters as last seen. */
    private final Map<String, ScrubCounters> counters = new HashMap<>();
    /** Each init_on_free guest's MemAvailable as last seen. */
    private final Map<String, Long> memAvailable = new HashMap<>();
    /** Reports of scrubs known directly whose run the counters have not shown yet, per VM. */
    private final Map<String, Deque<ScrubReport>> expected = new HashMap<>();
    /** Reports of scrubs first seen in the counters, whose direct report may still come, per VM. */
    private final Map<String, Deque<ScrubReport>> seenInCounters = new HashMap<>();

    private final List<KnownScrub> known = new ArrayList<>();
    /**
     * Recent samples, oldest first (the last one seen last), the oldest the newest one at least
     * {@link #BUDGET_WINDOW} old: ksmd's CPU before a boost is measured over that long (CPU time comes in
     * clock ticks, 10 ms on most kernels).
     */
    private final Deque<HostSnapshot> recent = new ArrayDeque<>();
    /** The two latest samples at which full_scans had moved on, for the cost of a full scan before a boost. */
    private Optional<HostSnapshot> boundary = Optional.empty();

    private Optional<HostSnapshot> boundaryBefore = Optional.empty();
    private Optional<Active> active = Optional.empty();

    ReclaimBoost(ReclaimBoostConfig config, AdaptiveConfig bounds) {
        this.config = config;
        this.bounds = bounds;
    }

    /** New memory zeroed in one VM since the last sample, and how the boost learnt of it. */
    private record Zeroed(String vmUuid, String vmName, long bytes, String how) {}

    /** A boost in progress. */
    private static final class Active {
        final HostSnapshot start;
        final Map<KsmKnob, Long> before = new EnumMap<>(KsmKnob.class);
        final Map<KsmKnob, Long> written = new EnumMap<>(KsmKnob.class);
        final Map<String, String> vms = new LinkedHashMap<>();
        long bytesZeroed;
        Instant lastScrubAt;
        long lastScrubFullScans;
        /** The sample at the last full-scan boundary, where the next growth window starts. */
        HostSnapshot scanMark;
        /** Where the current CPU budget window starts. */
        HostSnapshot rateMark;
        /** The sample of the boost's last write: a sample not newer cannot show what it wrote. */
        Instant lastWriteAt;
        /** The growth over the latest full-scan window, once one completed. */
        Optional<Growth> lastGrowth = Optional.empty();

        Active(HostSnapshot start) {
            this.start = start;
            this.scanMark = start;
            this.rateMark = start;
        }
    }

    /** A scrub the daemon knows of directly; taken into account at the next sample. */
    void known(KnownScrub scrub) {
        known.add(scrub);
    }

    boolean active() {
        return active.isPresent();
    }

    /** Takes {@code sample} as the baseline (scrub counters, CPU) when no sample was seen yet. */
    void observe(HostSnapshot sample) {
        if (recent.isEmpty()) {
            newScrubs(sample);
            noteBoundary(sample);
            remember(sample);
        }
    }

    private void remember(HostSnapshot sample) {
        recent.addLast(sample);
        while (recent.size() > 2) { // drop the oldest while the next one is at least a window old itself
            Iterator<HostSnapshot> oldest = recent.iterator();
            oldest.next();
            if (Duration.between(oldest.next().sampledAt(), sample.sampledAt()).compareTo(BUDGET_WINDOW) < 0) {
                break;
            }
            recent.removeFirst();
        }
    }

    /**
     * One step on a new sample: start, extend, pace or end a boost. Empty when there is nothing to decide,
     * and for a sample not newer than the last one seen (so the daemon's every-sample call and the policy's
     * interval decision may both pass the same sample).
     */
    Optional<Decision> step(HostSnapshot current) {
        if (!recent.isEmpty() && !current.sampledAt().isAfter(recent.peekLast().sampledAt())) {
            return Optional.empty();
        }
        Optional<HostSnapshot> previous = Optional.ofNullable(recent.peekFirst());
        remember(current);
        List<Zeroed> fresh = newScrubs(current);
        if (current.ksm().isEmpty()) {
            return active.isPresent()
                    ? Optional.of(finish(current, new ArrayList<>(), "KSM is no longer readable on this host"))
                    : Optional.empty();
        }
        Optional<Decision> decided = active.isPresent()
                ? during(active.get(), current, fresh)
                : fresh.stream().mapToLong(Zeroed::bytes).sum() > 0
                        ? Optional.of(start(previous, current, fresh))
                        : Optional.empty();
        noteBoundary(current);
        return decided;
    }

    /** Ends a boost in progress (policy mode change, daemon shutdown): the knobs it still holds go back. */
    Optional<Decision> release(HostSnapshot latest, String why) {
        return active.map(a -> finish(latest, new ArrayList<>(), why));
    }

    private void noteBoundary(HostSnapshot sample) {
        if (boundary.isEmpty() || fullScans(sample) > fullScans(boundary.get())) {
            boundaryBefore = boundary;
            boundary = Optional.of(sample);
        }
    }

    /**
     * Scrubs since the last sample: the ones known directly, then what the agents' counters add to them.
     * One scrub is counted once whichever way is seen first: a single new run in the counters carries its
     * report (ScrubCounters.lastReport), matched against the reports known directly; several runs at once
     * account for that many known ones, oldest first.
     */
    private List<Zeroed> newScrubs(HostSnapshot current) {
        List<Zeroed> fresh = new ArrayList<>();
        for (KnownScrub k : known) {
            if (seenInCounters.getOrDefault(k.vmUuid(), new ArrayDeque<>()).remove(k.report())) {
                continue; // the counters showed it before its report reached the policy: counted then
            }
            fresh.add(new Zeroed(
                    k.vmUuid(), k.vmName(), k.report().bytesZeroed(), k.source().description()));
            remember(expected, k.vmUuid(), k.report());
        }
        known.clear();
        Map<String, ScrubCounters> seen = new HashMap<>();
        for (VmSnapshot vm : current.vms()) {
            Optional<AgentStats> stats = vm.agent().stats();
            if (stats.isEmpty()) {
                continue;
            }
            String uuid = vm.domain().uuid();
            ScrubCounters now = stats.get().scrub();
            seen.put(uuid, now);
            ScrubCounters before = counters.get(uuid);
            if (before == null) {
                continue; // first sight: the scrubs it ran before were not waiting for this boost
            }
            boolean restarted =
                    now.scrubsRun() < before.scrubsRun() || now.totalBytesZeroed() < before.totalBytesZeroed();
            long runs = restarted ? now.scrubsRun() : now.scrubsRun() - before.scrubsRun();
            long bytes = restarted ? now.totalBytesZeroed() : now.totalBytesZeroed() - before.totalBytesZeroed();
            Deque<ScrubReport> pending = expected.getOrDefault(uuid, new ArrayDeque<>());
            if (runs == 1 && now.lastReport().isPresent()) {
                if (pending.remove(now.lastReport().get())) {
                    continue; // known directly: counted then
                }
                remember(seenInCounters, uuid, now.lastReport().get());
            } else {
                while (runs > 0 && !pending.isEmpty()) {
                    bytes -= pending.removeFirst().bytesZeroed();
                    runs--;
                }
            }
            if (runs > 0 && bytes > 0) {
                fresh.add(new Zeroed(uuid, vm.domain().name(), bytes, Count.of(runs, "scrub") + " " + COUNTERS));
            }
        }
        counters.clear();
        counters.putAll(seen);
        fresh.addAll(zeroedOnFree(current));
        return fresh;
    }

    /**
     * Memory that guest kernels zeroed as they freed it: init_on_free=1 (the agent's finding
     * guest.init_on_free.on; Documentation/admin-guide/kernel-parameters.txt) zeroes every page on its way
     * to the free lists, so freed memory is zero at once and waits for ksmd exactly as a scrub's does,
     * aged as old. A rise of the guest's MemAvailable since the last sample of at least
     * {@code reclaim_boost.init_on_free_min_percent} of its memory counts as that much zeroed; smaller rises
     * are the guest's ordinary churn. A guest that lies about either costs at most a boost within the CPU
     * budget, as one that lies about its scrubs.
     */
    private List<Zeroed> zeroedOnFree(HostSnapshot current) {
        List<Zeroed> fresh = new ArrayList<>();
        Map<String, Long> seen = new HashMap<>();
        for (VmSnapshot vm : current.vms()) {
            Optional<AgentStats> stats = vm.agent().stats();
            boolean zeroesOnFree =
                    vm.agent().posture().stream().anyMatch(f -> f.id().equals(GuestFindings.INIT_ON_FREE_ON));
            if (stats.isEmpty() || !zeroesOnFree || config.initOnFreeMinPercent() <= 0) {
                continue;
            }
            String uuid = vm.domain().uuid();
            long now = stats.get().memAvailableBytes();
            seen.put(uuid, now);
            Long before = memAvailable.get(uuid);
            long rise = before == null ? 0 : now - before;
            if (rise > 0
                    && rise >= config.initOnFreeMinPercent() / 100 * stats.get().memTotalBytes()) {
                fresh.add(new Zeroed(
                        uuid,
                        vm.domain().name(),
                        rise,
                        "its kernel zeroed what it freed: init_on_free=1, MemAvailable " + ByteSize.format(before)
                                + " → " + ByteSize.format(now)));
            }
        }
        memAvailable.clear();
        memAvailable.putAll(seen);
        return fresh;
    }

    private static void remember(Map<String, Deque<ScrubReport>> reports, String uuid, ScrubReport report) {
        Deque<ScrubReport> queue = reports.computeIfAbsent(uuid, key -> new ArrayDeque<>());
        if (queue.size() == MAX_REMEMBERED_PER_VM) {
            queue.removeFirst();
        }
        queue.addLast(report);
    }

    /** @param previous the sample ksmd's CPU before the boost is measured from, and its VMs' figures before the scrub */
    private Decision start(Optional<HostSnapshot> previous, HostSnapshot current, List<Zeroed> fresh) {
        KsmStats stats = current.ksm().get().stats();
        List<String> facts = new ArrayList<>();
        facts.add(zeroedFacts(fresh, previous, current));
        perFullScanBefore().ifPresent(facts::add);
        if (!config.enabled()) {
            return leave(facts, "reclaim_boost.enabled is false: ksmd reaches it at its own pace");
        }
        if (!stats.merging()) {
            return leave(
                    facts,
                    "ksmd is not running (run=" + stats.run().orElse(-1) + "): no boost; the zeroed"
                            + " memory waits for ksmd");
        }
        Map<KsmKnob, Long> wanted = new EnumMap<>(KsmKnob.class);
        if (!config.disableSmartScan()) {
            facts.add("reclaim_boost.disable_smart_scan is false: smart_scan left as it is");
        } else if (stats.smartScan().isEmpty()) {
            facts.add("this kernel has no smart_scan (before Linux 6.7): the scan rate alone is raised");
        } else if (stats.smartScan().getAsLong() != 0) {
            facts.add("smart_scan=1 visits a page that failed to merge for 9 or more full scans once every 9, and a"
                    + " zeroed page merges on the second visit after the zeroing");
            wanted.put(KsmKnob.SMART_SCAN, 0L);
        }
        Optional<HostFigures.Interval> window = previous.flatMap(p -> HostFigures.between(Optional.of(p), current));
        OptionalDouble cpu = window.filter(i -> i.seconds() >= BUDGET_WINDOW.toSeconds())
                .map(HostFigures.Interval::ksmdCpuPercent)
                .orElse(OptionalDouble.empty());
        boolean rateLater = false;
        if (advisorSetsPagesToScan(stats)) {
            facts.add("advisor_mode=scan-time sets pages_to_scan (within advisor_max_cpu): the rate is the advisor's");
        } else if (stats.pagesToScan().isPresent() && stats.sleepMillisecs().isPresent()) {
            ScanRate now = new ScanRate(
                    stats.pagesToScan().getAsLong(), stats.sleepMillisecs().getAsLong());
            if (cpu.isEmpty()) {
                rateLater = now.canGoFaster(bounds);
                facts.add("ksmd's CPU not measured over " + BUDGET_WINDOW.toSeconds() + " s yet: the rate follows the"
                        + " first budget window");
            } else {
                double step = Math.min(START_STEP, headroom(cpu.getAsDouble()));
                facts.add("ksmd used " + HostFigures.percent(cpu.getAsDouble()) + " of a core (budget "
                        + HostFigures.percent(bounds.cpuBudgetPercent()) + ")");
                putRate(wanted, now, step >= ScanRate.MIN_STEP_UP ? fasterOnly(now, now.faster(step, bounds)) : now);
            }
        }
        if (wanted.isEmpty() && !rateLater) {
            return leave(
                    facts,
                    "nothing to raise (smart_scan off or absent, the scan rate at the policy's bound or the"
                            + " CPU budget)");
        }
        Active boost = new Active(current);
        fresh.forEach(z -> boost.vms.put(z.vmUuid(), z.vmName()));
        boost.bytesZeroed = fresh.stream().mapToLong(Zeroed::bytes).sum();
        boost.lastScrubAt = current.sampledAt();
        boost.lastScrubFullScans = fullScans(current);
        wanted.forEach((knob, value) -> {
            boost.before.put(knob, value(stats, knob).orElseThrow());
            boost.written.put(knob, value);
        });
        boost.lastWriteAt = current.sampledAt();
        active = Optional.of(boost);
        return decision(
                wanted,
                "reclaim boost: " + String.join("; ", facts) + " → boost ksmd until the scrubbed VMs'"
                        + " zero-mapped memory stops growing (judged from " + FULL_SCANS_BEFORE_JUDGING
                        + " full scans after the last scrub on): "
                        + (wanted.isEmpty() ? "leave as is for now" : changes(boost.before, wanted)));
    }

    /** budget ÷ CPU: how much faster ksmd may scan within its budget. */
    private double headroom(double cpuPercent) {
        return bounds.cpuBudgetPercent() / Math.max(cpuPercent, 0.01);
    }

    private Optional<Decision> during(Active boost, HostSnapshot current, List<Zeroed> fresh) {
        KsmStats stats = current.ksm().get().stats();
        List<String> facts = new ArrayList<>();
        // Someone else's write ends the boost: the admin (or the tool) owns those knobs from now on.
        List<String> foreign = new ArrayList<>();
        boolean allAsBefore = true;
        for (Map.Entry<KsmKnob, Long> w : boost.written.entrySet()) {
            OptionalLong now = value(stats, w.getKey());
            if (now.isEmpty() || now.getAsLong() != w.getValue()) {
                foreign.add(w.getKey().fileName() + " (the boost wrote " + w.getValue() + ", now "
                        + (now.isPresent() ? Long.toString(now.getAsLong()) : "absent") + ")");
                allAsBefore &= now.isPresent() && now.getAsLong() == boost.before.get(w.getKey());
            }
        }
        if (!foreign.isEmpty()) {
            return Optional.of(finish(
                    current,
                    facts,
                    allAsBefore
                            ? "the boost's knobs are not in force: " + String.join(", ", foreign)
                                    + " (a dry run or a failed" + " write, or someone put them back)"
                            : "changed under the boost by someone else (an admin, memhygiene ksm set, PUT /api/v1/settings or"
                                    + " another tool): " + String.join(", ", foreign) + "; not fighting them"));
        }
        if (!stats.merging()) {
            return Optional.of(finish(
                    current,
                    facts,
                    "ksmd was stopped under the boost (run=" + stats.run().orElse(-1) + ")"));
        }
        boolean extended =
                !fresh.isEmpty() && fresh.stream().mapToLong(Zeroed::bytes).sum() > 0;
        if (extended) {
            fresh.forEach(z -> boost.vms.put(z.vmUuid(), z.vmName()));
            boost.bytesZeroed += fresh.stream().mapToLong(Zeroed::bytes).sum();
            boost.lastScrubAt = current.sampledAt();
            boost.lastScrubFullScans = fullScans(current);
            facts.add("boost extended: " + zeroedFacts(fresh, Optional.of(boost.scanMark), current));
        }
        long sinceScrub = fullScans(current) - boost.lastScrubFullScans;
        long threshold =
                Math.max(current.pageSizeBytes(), (long) (boost.bytesZeroed * config.minGrowthPercent() / 100));
        if (fullScans(current) > fullScans(boost.scanMark)) {
            Growth growth = Growth.between(boost, boost.scanMark, current);
            boost.scanMark = current;
            boost.lastGrowth = Optional.of(growth);
            if (!extended && sinceScrub >= FULL_SCANS_BEFORE_JUDGING && growth.perFullScanBytes() < threshold) {
                facts.add("the last " + growth.describe() + ", under " + HostFigures.ratio(config.minGrowthPercent())
                        + "% of the " + ByteSize.format(boost.bytesZeroed) + " zeroed (" + ByteSize.format(threshold)
                        + ")");
                return Optional.of(finish(
                        current,
                        facts,
                        "the zero-mapped memory stopped growing " + sinceScrub + " full scans after the last scrub"));
            }
        }
        if (sinceScrub >= config.maxFullScans()) {
            return Optional.of(finish(
                    current,
                    facts,
                    "reclaim_boost.max_full_scans (" + config.maxFullScans() + ") full scans since the last scrub"));
        }
        Duration since = Duration.between(boost.lastScrubAt, current.sampledAt());
        if (since.compareTo(config.maxDuration()) >= 0) {
            return Optional.of(finish(
                    current, facts, "reclaim_boost.max_duration (" + config.maxDuration() + ") since the last scrub"));
        }
        Map<KsmKnob, Long> wanted = new EnumMap<>(KsmKnob.class);
        Optional<HostFigures.Interval> window = HostFigures.between(Optional.of(boost.rateMark), current);
        if (!advisorSetsPagesToScan(stats)
                && window.isPresent()
                && window.get().ksmdCpuPercent().isPresent()
                && window.get().seconds() >= BUDGET_WINDOW.toSeconds()
                && stats.pagesToScan().isPresent()
                && stats.sleepMillisecs().isPresent()) {
            boost.rateMark = current;
            double cpu = window.get().ksmdCpuPercent().getAsDouble();
            ScanRate now = new ScanRate(
                    stats.pagesToScan().getAsLong(), stats.sleepMillisecs().getAsLong());
            ScanRate next = now;
            String pace;
            if (cpu > bounds.cpuBudgetPercent()) {
                pace = "over the CPU budget: scan less";
                next = now.canGoSlower(bounds) ? now.slower(bounds.cpuBudgetPercent() / cpu, bounds) : now;
            } else {
                double factor = ScanRate.stepUp(cpu, bounds.cpuBudgetPercent());
                pace = factor == 1 ? "at the CPU budget: hold" : "within the CPU budget: scan more";
                next = factor > 1 && now.canGoFaster(bounds) ? fasterOnly(now, now.faster(factor, bounds)) : now;
            }
            putRate(wanted, now, next);
            if (!wanted.isEmpty()) {
                boost.lastGrowth.ifPresent(g -> facts.add("the last " + g.describe()));
                facts.add("ksmd used " + HostFigures.percent(cpu) + " of a core over the last "
                        + String.format(Locale.ROOT, "%.1f", window.get().seconds()) + " s (budget "
                        + HostFigures.percent(bounds.cpuBudgetPercent()) + ") → " + pace);
            }
        }
        if (facts.isEmpty()) {
            return Optional.empty();
        }
        Map<KsmKnob, Long> from = new EnumMap<>(KsmKnob.class);
        wanted.forEach((knob, value) -> {
            long now = value(stats, knob).orElseThrow();
            boost.before.putIfAbsent(knob, now); // first written now: its value until now is the one to put back
            from.put(knob, now);
            boost.written.put(knob, value);
            boost.lastWriteAt = current.sampledAt();
        });
        return Optional.of(decision(
                wanted,
                "reclaim boost: " + String.join("; ", facts)
                        + (wanted.isEmpty() ? " → keep boosting: leave as is" : ": " + changes(from, wanted))));
    }

    /** Ends the boost: the knobs that still hold what it wrote go back to their values from before it. */
    private Decision finish(HostSnapshot current, List<String> facts, String why) {
        Active boost = active.orElseThrow();
        active = Optional.empty();
        boundary = Optional.empty(); // the next boost's "before" figures come from full scans after this one
        boundaryBefore = Optional.empty();
        Map<KsmKnob, Long> restore = new EnumMap<>(KsmKnob.class);
        Map<KsmKnob, Long> from = new EnumMap<>(KsmKnob.class);
        // A sample from before the last write (the latest one, when releasing) cannot show it: what was written counts.
        boolean predatesWrites = !current.sampledAt().isAfter(boost.lastWriteAt);
        current.ksm()
                .ifPresent(sample -> boost.written.forEach((knob, value) -> {
                    OptionalLong now = value(sample.stats(), knob);
                    boolean holds = predatesWrites || now.isPresent() && now.getAsLong() == value;
                    if (holds && value != boost.before.get(knob)) {
                        restore.put(knob, boost.before.get(knob));
                        from.put(knob, value);
                    }
                }));
        List<String> all = new ArrayList<>(facts);
        all.add(ByteSize.format(boost.bytesZeroed) + " zeroed in " + String.join(", ", boost.vms.values()));
        if (current.ksm().isPresent() && boost.start.ksm().isPresent()) {
            Growth overall = Growth.between(boost, boost.start, current);
            all.add("over the boost's " + overall.describe());
            HostFigures.between(Optional.of(boost.start), current)
                    .flatMap(i -> i.ksmdCpuPercent().isPresent() ? Optional.of(i) : Optional.empty())
                    .ifPresent(i -> all.add("ksmd used "
                            + HostFigures.percent(i.ksmdCpuPercent().getAsDouble()) + " of a core (budget "
                            + HostFigures.percent(bounds.cpuBudgetPercent()) + ")"));
        }
        return decision(
                restore,
                "reclaim boost ended: " + why + "; " + String.join("; ", all) + " → "
                        + (restore.isEmpty()
                                ? "nothing of the boost's to put back: leave as is"
                                : "put back " + changes(from, restore)));
    }

    /** What the sample's figures say about zero-mapped memory between two samples, over its full scans. */
    private record Growth(
            long fullScans,
            OptionalLong vmZeroMappedBytes,
            long hostZeroPages,
            long hostSharingPages,
            OptionalLong pagesScanned,
            OptionalLong pagesSkipped,
            long pageSizeBytes) {

        static Growth between(Active boost, HostSnapshot a, HostSnapshot b) {
            KsmStats x = a.ksm().orElseThrow().stats();
            KsmStats y = b.ksm().orElseThrow().stats();
            long sum = 0;
            boolean measured = false;
            for (String uuid : boost.vms.keySet()) {
                OptionalLong before = zeroMapped(a, uuid);
                OptionalLong after = zeroMapped(b, uuid);
                if (before.isPresent() && after.isPresent()) {
                    sum += after.getAsLong() - before.getAsLong();
                    measured = true;
                }
            }
            return new Growth(
                    Math.max(0, ReclaimBoost.fullScans(b) - ReclaimBoost.fullScans(a)),
                    measured ? OptionalLong.of(sum) : OptionalLong.empty(),
                    delta(x.ksmZeroPages(), y.ksmZeroPages()).orElse(0),
                    delta(x.pagesSharing(), y.pagesSharing()).orElse(0),
                    delta(x.pagesScanned(), y.pagesScanned()),
                    delta(x.pagesSkipped(), y.pagesSkipped()),
                    b.pageSizeBytes());
        }

        /**
         * Growth per full scan: the scrubbed VMs' zero-mapped memory where measured, else what KSM saves
         * host-wide (Δ(ksm_zero_pages + pages_sharing)).
         */
        long perFullScanBytes() {
            long total = vmZeroMappedBytes.orElse((hostZeroPages + hostSharingPages) * pageSizeBytes);
            return total / Math.max(1, fullScans);
        }

        String describe() {
            return Count.of(fullScans, "full scan") + ": "
                    + (vmZeroMappedBytes.isPresent()
                            ? "the scrubbed VMs' zero-mapped memory (VmSnapshot.zeroMappedBytes) "
                                    + signed(vmZeroMappedBytes.getAsLong())
                            : "no per-VM zero-mapped figure; KSM's savings host-wide "
                                    + signed((hostZeroPages + hostSharingPages) * pageSizeBytes))
                    + " (" + signed(perFullScanBytes())
                    + " per full scan); host ksm_zero_pages " + signedCount(hostZeroPages) + ", pages_sharing "
                    + signedCount(hostSharingPages)
                    + (pagesScanned.isPresent() ? ", pages_scanned " + signedCount(pagesScanned.getAsLong()) : "")
                    + (pagesSkipped.isPresent() ? ", pages_skipped " + signedCount(pagesSkipped.getAsLong()) : "");
        }

        private static String signed(long bytes) {
            return (bytes < 0 ? "-" : "+") + ByteSize.format(Math.abs(bytes));
        }

        private static String signedCount(long count) {
            return (count < 0 ? "" : "+") + count;
        }
    }

    /** The figures of the last completed full scan before this boost: what a full scan cost with smart_scan as it was. */
    private Optional<String> perFullScanBefore() {
        if (boundary.isEmpty() || boundaryBefore.isEmpty()) {
            return Optional.empty();
        }
        KsmStats x = boundaryBefore.get().ksm().map(k -> k.stats()).orElse(null);
        KsmStats y = boundary.get().ksm().map(k -> k.stats()).orElse(null);
        long scans = fullScans(boundary.get()) - fullScans(boundaryBefore.get());
        if (x == null || y == null || scans <= 0) {
            return Optional.empty();
        }
        OptionalLong scanned = delta(x.pagesScanned(), y.pagesScanned());
        OptionalLong skipped = delta(x.pagesSkipped(), y.pagesSkipped());
        if (scanned.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("before the boost a full scan visited " + scanned.getAsLong() / scans + " pages"
                + (skipped.isPresent() ? " and skipped " + skipped.getAsLong() / scans : "")
                + " (Δpages_scanned" + (skipped.isPresent() ? ", Δpages_skipped" : "") + " per full scan)");
    }

    /** The scrubs' figures, and for a VM with free page reporting what was left for the scrub and KSM. */
    private static String zeroedFacts(List<Zeroed> fresh, Optional<HostSnapshot> before, HostSnapshot current) {
        List<String> parts = new ArrayList<>();
        for (Zeroed z : fresh) {
            String part = z.vmName() + " " + ByteSize.format(z.bytes()) + " (" + z.how() + ")";
            Optional<VmSnapshot> vm = before.flatMap(b -> vm(b, z.vmUuid())).or(() -> vm(current, z.vmUuid()));
            if (vm.isPresent()
                    && vm.get()
                            .config()
                            .flatMap(DomainXml::balloon)
                            .filter(DomainXml.Balloon::freePageReporting)
                            .isPresent()) {
                part += "; " + freePageReporting(vm.get(), z.bytes());
            }
            parts.add(part);
        }
        return "scrubs zeroed "
                + ByteSize.format(fresh.stream().mapToLong(Zeroed::bytes).sum()) + ": " + String.join(", ", parts);
    }

    /**
     * Free page reporting hands the guest's free pages back to the host by itself, so a scrub's zeroed
     * memory was mostly back already; what was left for the scrub and KSM is the free memory still backed
     * on the host, estimated from libvirt's balloon statistics before the scrub.
     */
    private static String freePageReporting(VmSnapshot vm, long zeroed) {
        BalloonStats b = vm.domain().balloonStats();
        if (b.rssBytes().isEmpty()
                || b.actualBytes().isEmpty()
                || b.unusedBytes().isEmpty()) {
            return "it has free page reporting, which returns free pages without KSM; how much was still backed"
                    + " is not measured (no balloon statistics rss, actual and unused: set <stats period>)";
        }
        long used = b.actualBytes().getAsLong() - b.unusedBytes().getAsLong();
        long backedFree = Math.max(0, b.rssBytes().getAsLong() - used);
        return "it has free page reporting, which had returned free pages already: of its "
                + ByteSize.format(b.unusedBytes().getAsLong()) + " unused, about " + ByteSize.format(backedFree)
                + " was still backed on the host (estimate: QEMU RSS "
                + ByteSize.format(b.rssBytes().getAsLong())
                + " − (balloon " + ByteSize.format(b.actualBytes().getAsLong()) + " − unused), QEMU's own memory"
                + " included), so of the " + ByteSize.format(zeroed) + " zeroed at most "
                + ByteSize.format(Math.min(zeroed, backedFree)) + " is left for KSM";
    }

    private static Optional<VmSnapshot> vm(HostSnapshot sample, String uuid) {
        return sample.vms().stream().filter(v -> v.domain().uuid().equals(uuid)).findFirst();
    }

    private static OptionalLong zeroMapped(HostSnapshot sample, String uuid) {
        return vm(sample, uuid)
                .map(v -> v.zeroMappedBytes(sample.pageSizeBytes()))
                .orElse(OptionalLong.empty());
    }

    private static boolean advisorSetsPagesToScan(KsmStats stats) {
        return stats.advisorMode().filter("scan-time"::equals).isPresent();
    }

    /** {@code raised}, unless a bound would make either knob slower than now (an admin's value outside them). */
    private static ScanRate fasterOnly(ScanRate now, ScanRate raised) {
        return raised.pagesToScan() < now.pagesToScan() || raised.sleepMillisecs() > now.sleepMillisecs()
                ? now
                : raised;
    }

    private static void putRate(Map<KsmKnob, Long> wanted, ScanRate now, ScanRate next) {
        if (next.pagesToScan() != now.pagesToScan()) {
            wanted.put(KsmKnob.PAGES_TO_SCAN, next.pagesToScan());
        }
        if (next.sleepMillisecs() != now.sleepMillisecs()) {
            wanted.put(KsmKnob.SLEEP_MILLISECS, next.sleepMillisecs());
        }
    }

    /** The value of a knob the boost writes (smart_scan, pages_to_scan, sleep_millisecs). */
    private static OptionalLong value(KsmStats stats, KsmKnob knob) {
        return switch (knob) {
            case SMART_SCAN -> stats.smartScan();
            case PAGES_TO_SCAN -> stats.pagesToScan();
            case SLEEP_MILLISECS -> stats.sleepMillisecs();
            default -> throw new IllegalArgumentException("the reclaim boost does not write " + knob.fileName());
        };
    }

    private static long fullScans(HostSnapshot sample) {
        return sample.ksm()
                .flatMap(k -> k.stats().fullScans().isPresent()
                        ? Optional.of(k.stats().fullScans().getAsLong())
                        : Optional.empty())
                .orElse(0L);
    }

    private static OptionalLong delta(OptionalLong before, OptionalLong after) {
        return before.isPresent() && after.isPresent()
                ? OptionalLong.of(after.getAsLong() - before.getAsLong())
                : OptionalLong.empty();
    }

    private static String changes(Map<KsmKnob, Long> from, Map<KsmKnob, Long> to) {
        List<String> parts = new ArrayList<>();
        to.forEach((knob, value) -> parts.add(knob.fileName() + " " + from.get(knob) + "→" + value));
        return String.join(", ", parts);
    }

    private static Decision leave(List<String> facts, String action) {
        return Decision.leaveAsIs(
                PolicyMode.ADAPTIVE, "reclaim boost: " + String.join("; ", facts) + " → " + action + ": leave as is");
    }

    private static Decision decision(Map<KsmKnob, Long> knobs, String reason) {
        Map<KsmKnob, String> text = new EnumMap<>(KsmKnob.class);
        knobs.forEach((knob, value) -> text.put(knob, Long.toString(value)));
        return new Decision(
                text.isEmpty() ? Optional.empty() : Optional.of(KsmSettings.of(text)),
                List.of(),
                PolicyMode.ADAPTIVE,
                reason);
    }
}
