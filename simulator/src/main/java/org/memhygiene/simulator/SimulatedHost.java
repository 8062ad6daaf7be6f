package org.memhygiene.simulator;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.AgentStats;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.agent.ScrubPolicy;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostNotAvailableException;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.host.SourceState;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmSavings;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.GuestFindings;
import org.memhygiene.core.posture.SwapDevice;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.core.protocol.AgentProtocol;
import org.memhygiene.core.units.Count;
import org.memhygiene.simulator.hygiene.GuestHygiene;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * A simulated KVM host behind the daemon's HostBackend seam: the controller's loop, policy, API,
 * metrics and the dashboard run on it unchanged. Each {@link #snapshot()} first advances simulated
 * time by the real time elapsed since the last one times {@code speed}; {@link #advance} steps it
 * directly (CLI, tests, sweeps). Thread-safe: every call is serialised.
 */
public final class SimulatedHost implements HostBackend {
    private static final String QEMU = "qemu-system-x86";
    private static final long HOST_RESERVED_BYTES = 1L << 30;

    private final Simulation sim;
    private final Clock clock;
    private final double speed;
    private final Instant start;
    private Instant lastReal;

    private SimulatedHost(Scenario scenario, Clock clock, double speed, ScanEngine engine) {
        if (!(speed > 0)) {
            throw new IllegalArgumentException(
                    "speed must be more than 0 simulated seconds per real second, was " + speed);
        }
        this.sim = new Simulation(scenario, engine);
        this.clock = clock;
        this.speed = speed;
        this.start = clock.instant();
        this.lastReal = start;
    }

    /** The scenario in {@code scenarioYaml}, on the system clock at the scenario's speed. */
    public static SimulatedHost load(Path scenarioYaml) {
        Scenario s = ScenarioParser.load(scenarioYaml);
        return new SimulatedHost(s, Clock.systemUTC(), s.speed(), ScanEngine.SKIP_SETTLED);
    }

    public static SimulatedHost load(Path scenarioYaml, Clock clock, double speed) {
        return new SimulatedHost(ScenarioParser.load(scenarioYaml), clock, speed, ScanEngine.SKIP_SETTLED);
    }

    /** The shipped demo scenario ({@value ScenarioParser#DEMO_RESOURCE}) on the system clock at its speed. */
    public static SimulatedHost builtin() {
        Scenario s = ScenarioParser.demo();
        return new SimulatedHost(s, Clock.systemUTC(), s.speed(), ScanEngine.SKIP_SETTLED);
    }

    public static SimulatedHost builtin(Clock clock, double speed) {
        return new SimulatedHost(ScenarioParser.demo(), clock, speed, ScanEngine.SKIP_SETTLED);
    }

    public static SimulatedHost of(Scenario scenario, Clock clock, double speed) {
        return new SimulatedHost(scenario, clock, speed, ScanEngine.SKIP_SETTLED);
    }

    /** With the page-by-page reference engine or the default skipping one (identical results). */
    public static SimulatedHost of(Scenario scenario, Clock clock, double speed, ScanEngine engine) {
        return new SimulatedHost(scenario, clock, speed, engine);
    }

    public Scenario scenario() {
        return sim.scenario();
    }

    /** Simulated seconds per real second. */
    public double speed() {
        return speed;
    }

    /** Simulated time since the scenario started. */
    public synchronized Duration elapsed() {
        return sim.elapsed();
    }

    /** Advances simulated time by {@code simulated}, whatever the clock says. */
    public synchronized void advance(Duration simulated) {
        sim.advance(simulated);
    }

    /** The simulation itself, for the CLI, sweeps and tests that look at pages. */
    public Simulation simulation() {
        return sim;
    }

    private void catchUp() {
        Instant now = clock.instant();
        Duration real = Duration.between(lastReal, now);
        if (!real.isNegative() && !real.isZero()) {
            sim.advance(Duration.ofNanos((long) (real.toNanos() * speed)));
        }
        lastReal = now;
    }

    private Instant simulatedNow() {
        return start.plus(sim.elapsed());
    }

    @Override
    public synchronized HostSnapshot snapshot() {
        long t0 = System.nanoTime();
        catchUp();
        Instant at = simulatedNow();
        long page = sim.pageSizeBytes();
        KsmSample ksm = new KsmSample(at, sim.nowNanos(), page, sim.ksmStats());
        List<VmSnapshot> vms = new ArrayList<>();
        // Every source of a simulated host answers; the agents of running guests that have one are sources too.
        List<SourceState> sources = new ArrayList<>(List.of(
                SourceState.up(SourceState.KSM, at),
                SourceState.up(SourceState.HOST_MEMORY, at),
                SourceState.up(SourceState.SIMULATOR, at)));
        for (Guest g : sim.model().guests) {
            vms.add(vm(g, at, page));
            if (g.running && g.spec.hygiene().agent()) {
                sources.add(SourceState.up(SourceState.agent(g.name()), at));
            }
        }
        return new HostSnapshot(
                at,
                "sim:///" + sim.scenario().name(),
                page,
                Optional.of(ksm),
                Optional.of(memory(page)),
                OptionalLong.of(sim.ksmd().cpuNanos() / 1_000_000),
                vms,
                Duration.ofNanos(System.nanoTime() - t0),
                sources);
    }

    /** The latest exposure figures (without advancing time). */
    public synchronized Exposure exposure() {
        long page = sim.pageSizeBytes();
        var stable = sim.model().stable;
        Guest[] guests = sim.model().guests;
        long[] merged = new long[guests.length];
        for (int i = 0; i < guests.length; i++) {
            merged[i] = guests[i].liveMergedPages;
        }
        long[] sharingPages = apportion(stable.liveSharers() - stable.liveNodes(), merged);
        List<Exposure.VmReclaim> reclaim = new ArrayList<>();
        long staleSecret = 0;
        for (int i = 0; i < guests.length; i++) {
            Guest g = guests[i];
            reclaim.add(new Exposure.VmReclaim(
                    g.name(), g.uuid, sharingPages[i] * page, g.zeroMergedPages * page, g.reportedPages * page));
            staleSecret += g.staleSecretFreePages;
        }
        return new Exposure(
                simulatedNow(),
                sim.elapsed(),
                stable.crossVmPages(),
                stable.mergedSecretPages(),
                staleSecret,
                sim.staleSecretPageSeconds(),
                sim.ksmdCpuPercent(),
                page,
                reclaim);
    }

    /**
     * Splits {@code totalPages} in proportion to {@code weights} in whole pages that add up to it exactly
     * (largest remainder; ties to the first): each VM's share of what sharing saves, so the VMs' figures
     * sum to the host's instead of drifting a page per VM from rounding each on its own.
     */
    static long[] apportion(long totalPages, long[] weights) {
        long[] shares = new long[weights.length];
        long weightSum = 0;
        for (long w : weights) {
            weightSum += w;
        }
        if (weightSum == 0 || totalPages == 0) {
            return shares;
        }
        long given = 0;
        long[] remainders = new long[weights.length];
        for (int i = 0; i < weights.length; i++) {
            // Exact integer division: totalPages × weight fits a long for any host the simulator models (< 2^31 pages
            // each).
            shares[i] = totalPages * weights[i] / weightSum;
            remainders[i] = totalPages * weights[i] % weightSum;
            given += shares[i];
        }
        for (long left = totalPages - given; left > 0; left--) {
            int best = 0;
            for (int i = 1; i < weights.length; i++) {
                if (remainders[i] > remainders[best]) {
                    best = i;
                }
            }
            shares[best]++;
            remainders[best] = -1;
        }
        return shares;
    }

    private HostMemory memory(long page) {
        long guestMemory = 0;
        for (Guest g : sim.model().guests) {
            guestMemory += g.spec.memoryBytes();
        }
        Scenario.Host host = sim.scenario().host();
        long hostUsedPages = sim.residentPages();
        long total = host.memoryBytes() > 0 ? host.memoryBytes() : guestMemory + (8L << 30);
        long free = Math.max(0, total - HOST_RESERVED_BYTES - hostUsedPages * page);
        // Nothing is swapped out: the model has no host swapping, only the swap the scenario gives the host.
        return new HostMemory(
                total,
                free,
                OptionalLong.of(free),
                0,
                0,
                host.swapBytes(),
                host.swapBytes(),
                OptionalDouble.of(host.memoryPressurePercent()));
    }

    private VmSnapshot vm(Guest g, Instant at, long page) {
        GuestSpec s = g.spec;
        GuestHygiene hygiene = sim.hygiene(g);
        DomainState state = g.running ? DomainState.RUNNING : DomainState.SHUT_OFF;
        BalloonStats stats = BalloonStats.NONE;
        if (g.running && s.balloon()) {
            long cache = (long) (g.cacheEnd - g.osEnd) * page;
            long privatePages = g.presentPages - g.zeroMergedPages - g.liveMergedPages;
            stats = new BalloonStats(
                    OptionalLong.of(s.memoryBytes()),
                    OptionalLong.of(g.freePages * page),
                    OptionalLong.of(s.memoryBytes()),
                    OptionalLong.of(hygiene.memAvailableBytes()),
                    OptionalLong.of(privatePages * page),
                    OptionalLong.of(cache),
                    OptionalLong.of(0),
                    OptionalLong.of(0),
                    OptionalLong.of(at.getEpochSecond()));
        }
        DomainSample domain =
                new DomainSample(s.name(), s.uuid(), state, s.vcpus(), s.memoryBytes(), s.memoryBytes(), stats);
        DomainXml xml = new DomainXml(
                s.name(),
                new DomainXml.MemoryBacking(s.noSharePages(), false, false),
                s.balloon()
                        ? Optional.of(new DomainXml.Balloon(
                                "virtio",
                                s.hygiene().mode() == HygieneMode.FREE_PAGE_REPORTING,
                                OptionalInt.of(s.balloonStatsPeriodSeconds())))
                        : Optional.empty(),
                s.hygiene().agent()
                        ? Optional.of(new DomainXml.AgentChannel(
                                g.running
                                        ? Optional.of(Path.of("/run/memhygiene-sim", s.name() + ".agent"))
                                        : Optional.empty()))
                        : Optional.empty(),
                false,
                Optional.of(s.posture()));
        Optional<DomainKsm> ksm = Optional.empty();
        if (g.running) {
            long profit = (g.mergingPages + g.zeroMergedPages) * page - g.rmapItems * KsmSavings.RMAP_ITEM_BYTES;
            ksm = Optional.of(new DomainKsm(
                    s.name(),
                    g.pid,
                    new ProcessKsmStat(
                            g.pid,
                            QEMU,
                            OptionalLong.of(g.rmapItems),
                            OptionalLong.of(g.zeroMergedPages),
                            OptionalLong.of(g.mergingPages),
                            OptionalLong.of(profit),
                            Optional.of(false),
                            Optional.of(g.mergeable()))));
        }
        return new VmSnapshot(domain, Optional.of(xml), ksm, agent(g, hygiene, at, page), guestMemory(g, at, page));
    }

    /**
     * The guest's RAM as a pagemap pass would classify it (docs/RECLAIM.md), from the model, which knows
     * every page's state: zero-mapped, mapped to a KSM page, private, not present, discarded after free page
     * reporting (given back). The model has no huge pages and no swap. What sharing saves the guest is its
     * share of the host's: its KSM mappings × (mappings − KSM pages) / mappings.
     */
    private Optional<GuestMemory> guestMemory(Guest g, Instant at, long page) {
        if (!g.running) {
            return Optional.empty();
        }
        var stable = sim.model().stable;
        long saved = stable.liveSharers() == 0
                ? 0
                : Math.round((double) g.liveMergedPages
                        * (stable.liveSharers() - stable.liveNodes())
                        / stable.liveSharers());
        long resident = g.presentPages - g.zeroMergedPages - g.liveMergedPages;
        GuestMemory.Pages pages = new GuestMemory.Pages(
                OptionalLong.of(resident),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(g.liveMergedPages),
                OptionalLong.of(saved),
                OptionalLong.of(g.zeroMergedPages),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(g.pages - g.presentPages),
                OptionalLong.of(g.reportedPages));
        return Optional.of(new GuestMemory(
                GuestMemory.Method.SIMULATOR,
                Optional.empty(),
                g.pid,
                page,
                g.pages,
                pages,
                OptionalLong.of(g.presentPages - g.zeroMergedPages),
                at,
                at,
                0));
    }

    private AgentSample agent(Guest g, GuestHygiene hygiene, Instant at, long page) {
        GuestSpec s = g.spec;
        if (!s.hygiene().agent()) {
            return AgentSample.without(AgentStatus.NO_CHANNEL, "no " + DomainXml.AGENT_CHANNEL + " channel", at);
        }
        if (!g.running) {
            return AgentSample.without(AgentStatus.VM_NOT_RUNNING, s.name() + " is shut off", at);
        }
        GuestSpec.Scrub scrub = s.hygiene().scrub();
        ScrubPolicy policy = new ScrubPolicy(
                scrub.minHeadroomBytes(),
                scrub.headroomPercent(),
                10.0,
                scrub.rateBytesPerSecond(),
                s.hygiene().mode() == HygieneMode.AGENT_SCRUB ? scrub.interval().toMillis() : 0,
                scrub.largeFreeThresholdBytes(),
                1000,
                scrub.maxBytes());
        AgentStats stats = new AgentStats(s.memoryBytes(), hygiene.memAvailableBytes(), hygiene.counters(), policy);
        return new AgentSample(
                at, AgentStatus.OK, "", Optional.of(hello(page)), Optional.of(stats), posture(s), List.of());
    }

    /** What a simulated agent answers to hello: the protocol this build speaks, the scenario's page size. */
    private static AgentHello hello(long pageSizeBytes) {
        return new AgentHello(AgentProtocol.VERSION, "simulated", pageSizeBytes, List.of("scrub", "posture"));
    }

    /** The findings the real agent's PostureProbe reports for a guest of this spec (the same texts, GuestFindings). */
    private static List<Finding> posture(GuestSpec s) {
        List<Finding> findings = new ArrayList<>();
        findings.add(GuestFindings.kernelVersion(
                s.kernel(), "simulated /proc/sys/kernel/osrelease: " + s.kernel() + " (image " + s.image() + ")"));
        if (s.hygiene().mode() == HygieneMode.INIT_ON_FREE) {
            findings.add(GuestFindings.initOnFreeOn("simulated /proc/cmdline: init_on_free=1"));
        } else {
            findings.add(GuestFindings.initOnFreeOff("simulated /proc/cmdline: no init_on_free="));
            findings.add(GuestFindings.initOnAllocOff("simulated /proc/cmdline: no init_on_alloc="));
        }
        findings.add(GuestFindings.swapNone("simulated /proc/swaps: no devices"));
        if (!s.balloon()) {
            findings.add(GuestFindings.balloonAbsent("simulated /sys/bus/virtio/drivers/virtio_balloon: absent"));
        } else if (s.hygiene().mode() == HygieneMode.FREE_PAGE_REPORTING) {
            findings.add(GuestFindings.freePageReportingOn("simulated page_reporting_order: "
                    + s.hygiene().freePageReporting().order()));
        } else {
            findings.add(GuestFindings.freePageReportingOff("simulated page_reporting_order: absent"));
        }
        return List.copyOf(findings);
    }

    @Override
    public synchronized List<KsmChange> applyKsm(KsmSettings settings) {
        catchUp();
        return sim.applyKsm(settings);
    }

    @Override
    public synchronized ScrubReport scrub(String vm, long maxBytes, Duration timeout) {
        catchUp();
        return sim.scrub(withAgent(vm), maxBytes);
    }

    @Override
    public synchronized AgentHello ping(String vm) {
        withAgent(vm);
        return hello(sim.pageSizeBytes());
    }

    /**
     * The probe answered from the model, at once (simulated time does not advance for it): a guest's canary
     * merges with another guest's when KSM runs, neither has nosharepages, they may merge across their NUMA
     * nodes, and the model has merged pages of both already (ksmd has scanned them). The model has no write
     * latency, so no guest view.
     */
    @Override
    public synchronized DedupProbeReport probeDedup(DedupProbeRequest request) {
        catchUp();
        List<Guest> chosen = new ArrayList<>();
        if (request.vms().isEmpty()) {
            Arrays.stream(sim.model().guests).filter(g -> g.running).forEach(chosen::add);
        } else {
            for (String vm : request.vms()) {
                chosen.add(Arrays.stream(sim.model().guests)
                        .filter(g -> g.name().equals(vm) || g.uuid.equalsIgnoreCase(vm))
                        .findFirst()
                        .orElseThrow(() -> new NoSuchVmException(
                                vm,
                                "sim:///" + sim.scenario().name(),
                                Arrays.stream(sim.model().guests)
                                        .map(Guest::name)
                                        .toList())));
            }
        }
        var knobs = sim.ksmd().knobs();
        boolean merging = knobs.run() == 1;
        List<Guest> probed = chosen.stream()
                .filter(g -> g.running && g.spec.hygiene().agent())
                .toList();
        List<DedupProbeReport.PairProbe> pairs = new ArrayList<>();
        int pages = Math.min(request.pages(), CanaryBounds.maxPages(sim.pageSizeBytes()));
        Map<Guest, Integer> mergedWith = new HashMap<>();
        for (int a = 0; a < probed.size(); a++) {
            for (int b = a + 1; b < probed.size(); b++) {
                Guest ga = probed.get(a);
                Guest gb = probed.get(b);
                boolean merge = merging
                        && !ga.spec.noSharePages()
                        && !gb.spec.noSharePages()
                        && ga.liveMergedPages > 0
                        && gb.liveMergedPages > 0
                        && (knobs.mergeAcrossNodes() || ga.spec.numaNode() == gb.spec.numaNode());
                pairs.add(new DedupProbeReport.PairProbe(ga.name(), gb.name(), merge ? pages : 0));
                if (merge) {
                    mergedWith.put(ga, pages);
                    mergedWith.put(gb, pages);
                }
            }
        }
        List<DedupProbeReport.VmProbe> rows = new ArrayList<>();
        for (Guest g : chosen) {
            if (!probed.contains(g)) {
                rows.add(new DedupProbeReport.VmProbe(
                        g.name(),
                        g.uuid,
                        DedupProbeReport.Outcome.NO_AGENT,
                        g.running
                                ? g.name() + " has no " + DomainXml.AGENT_CHANNEL + " channel"
                                : g.name() + " is shut off",
                        Optional.empty(),
                        Optional.empty(),
                        DedupProbeReport.Verdict.UNKNOWN));
                continue;
            }
            int merged = mergedWith.getOrDefault(g, 0);
            rows.add(new DedupProbeReport.VmProbe(
                    g.name(),
                    g.uuid,
                    DedupProbeReport.Outcome.PROBED,
                    "the simulator models no write latency: no guest view",
                    Optional.of(new DedupProbeReport.HostTruth(pages, merged, merged)),
                    Optional.empty(),
                    merged > 0 ? DedupProbeReport.Verdict.OBSERVED : DedupProbeReport.Verdict.NOT_OBSERVED));
        }
        Instant now = simulatedNow();
        long fullScans = sim.ksmStats().fullScans().orElse(0);
        return new DedupProbeReport(
                CanaryBounds.hex(new byte[CanaryBounds.MIN_NONCE_BYTES]),
                pages,
                sim.pageSizeBytes(),
                now,
                now,
                new DedupProbeReport.KsmAtProbe(
                        knobs.run(),
                        knobs.smartScan(),
                        knobs.useZeroPages(),
                        knobs.mergeAcrossNodes(),
                        0,
                        request.fullScans(),
                        merging
                                ? "answered from the model (full scans so far: " + fullScans + ")"
                                : "KSM does not run (run=" + knobs.run() + "): nothing merges"),
                "simulator model",
                rows,
                pairs);
    }

    /** The guest named {@code vm} (or with that UUID) whose agent answers: it has one, and it runs. */
    private Guest withAgent(String vm) {
        Guest g = Arrays.stream(sim.model().guests)
                .filter(guest -> guest.name().equals(vm) || guest.uuid.equalsIgnoreCase(vm))
                .findFirst()
                .orElseThrow(() -> new NoSuchVmException(
                        vm,
                        "sim:///" + sim.scenario().name(),
                        Arrays.stream(sim.model().guests).map(Guest::name).toList()));
        if (!g.spec.hygiene().agent()) {
            throw new HostNotAvailableException(g.name() + " has no " + DomainXml.AGENT_CHANNEL + " channel");
        }
        if (!g.running) {
            throw new HostNotAvailableException(
                    g.name() + " is shut off: its agent channel has no socket until it runs");
        }
        return g;
    }

    /**
     * The scenario's host: its swap (one device of the scenario's kind, or none), no CPU vulnerability files
     * (the model has no CPU), and as many NUMA nodes as its guests use.
     */
    @Override
    public Optional<HostFacts> facts() {
        Scenario.Host host = sim.scenario().host();
        List<SwapDevice> swaps = new ArrayList<>();
        if (host.swapBytes() > 0) {
            String device = switch (host.swapKind()) {
                case ZRAM -> "/dev/zram0";
                case DM_CRYPT -> "/dev/dm-0";
                case UNENCRYPTED -> "/dev/vda2";
            };
            swaps.add(new SwapDevice(
                    device, device + " partition " + host.swapBytes() / 1024 + " 0 -2", host.swapKind()));
        }
        int nodes = 1
                + sim.scenario().guests().stream()
                        .mapToInt(GuestSpec::numaNode)
                        .max()
                        .orElse(0);
        return Optional.of(new HostFacts(
                Optional.of(swaps),
                "simulated /proc/swaps",
                Map.of(),
                "simulated /sys/devices/system/cpu/vulnerabilities",
                OptionalInt.of(nodes),
                "simulated /sys/devices/system/node/online"));
    }

    /** Every simulated balloon reports at the stats_period its scenario gives it: nothing to change. */
    @Override
    public List<String> enableBalloonStats(Duration period) {
        return List.of();
    }

    @Override
    public String describe() {
        Scenario s = sim.scenario();
        return "simulator: scenario '" + s.name() + "' (" + s.source() + "), "
                + Count.of(s.guests().size(), "guest") + ", " + speed + " simulated s per real s";
    }

    @Override
    public void close() {
        // Nothing to release: the simulation is plain heap.
    }
}
