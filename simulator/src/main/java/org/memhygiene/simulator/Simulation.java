package org.memhygiene.simulator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.simulator.hygiene.GuestHygiene;
import org.memhygiene.simulator.ksm.KsmKnobs;
import org.memhygiene.simulator.ksm.Ksmd;
import org.memhygiene.simulator.ksm.ScanEngine;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.ContentGroup;
import org.memhygiene.simulator.scenario.EventSpec;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;

/**
 * A scenario running in simulated time: guests boot, write, allocate and free; their hygiene acts on
 * freed memory; ksmd wakes every sleep_millisecs (after the CPU time of its last batch) and scans.
 * Deterministic for a scenario and seed. Not thread-safe: {@link SimulatedHost} serialises access.
 */
public final class Simulation {
    /** Churn, boot progress and remanence are integrated in steps of at most this much. */
    private static final long MAX_STEP_NANOS = 1_000_000_000L;

    private final Scenario scenario;
    private final HostModel model;
    private final Ksmd ksmd;
    private final long pageSizeBytes;
    private final GuestHygiene[] hygiene;
    private final GuestSpec.Churn[] churn;
    private final double[][] churnDebt;
    private final List<List<int[]>> allocations = new ArrayList<>();
    private final SplittableRandom random;
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final int[] imageIds;
    /** The first content-id slot of each content group. */
    private final int[] groupSlots;
    /**
     * Per guest booting with exact free-memory counts: stale, stale secret and zero pages still to
     * place, and free pages still to pass (selection sampling: exactly that many, uniformly spread).
     */
    private final long[][] freeLeft;
    /** The churn's writes of one step, drawn first and applied together (HostModel.Writes). */
    private final HostModel.Writes writes;

    private int nextEvent;
    private long nowNanos;
    private long nextWakeNanos;
    private double staleSecretPageSeconds;
    private long lastStepCpuNanos;
    private long lastStepNanos;
    private long pageVisits;

    /** A timed action; timers due at the same time run in the order they were set (seq). */
    private record Timer(long atNanos, long seq, int guest, int epoch, Runnable action) implements Comparable<Timer> {
        @Override
        public int compareTo(Timer o) {
            int byTime = Long.compare(atNanos, o.atNanos);
            return byTime != 0 ? byTime : Long.compare(seq, o.seq);
        }
    }

    private long timerSeq;

    private void schedule(long atNanos, int guest, int epoch, Runnable action) {
        timers.add(new Timer(atNanos, timerSeq++, guest, epoch, action));
    }

    private final int[] epochs;

    /** The scenario with the default scan engine ({@link ScanEngine#SKIP_SETTLED}). */
    public Simulation(Scenario scenario) {
        this(scenario, ScanEngine.SKIP_SETTLED);
    }

    public Simulation(Scenario scenario, ScanEngine engine) {
        this.scenario = scenario;
        this.pageSizeBytes = scenario.host().pageSizeBytes();
        this.random = new SplittableRandom(scenario.seed());
        List<Guest> guests = new ArrayList<>();
        long total = 0;
        Map<String, Integer> images = new LinkedHashMap<>();
        imageIds = new int[scenario.guests().size()];
        for (int i = 0; i < scenario.guests().size(); i++) {
            GuestSpec spec = scenario.guests().get(i);
            int pages = (int) (spec.memoryBytes() / pageSizeBytes);
            guests.add(new Guest(
                    i,
                    spec,
                    (int) total,
                    pages,
                    regionEnds(spec, scenario.groupPages(spec.name())),
                    spec.uuid(),
                    20_000 + i));
            imageIds[i] = images.computeIfAbsent(spec.image(), k -> images.size() + 1);
            total += pages;
        }
        // Content groups take content-id slots after the images, as many as their contents need.
        groupSlots = new int[scenario.contentGroups().size()];
        int slot = images.size() + 1;
        for (int i = 0; i < groupSlots.length; i++) {
            groupSlots[i] = slot;
            slot += (scenario.contentGroups().get(i).contents() + Content.MAX_SHARED_INDEX)
                    / (Content.MAX_SHARED_INDEX + 1);
        }
        freeLeft = new long[guests.size()][];
        requireHeapFor(scenario);
        model = new HostModel(guests, (int) total);
        writes = model.new Writes();
        KsmKnobs knobs = new KsmKnobs();
        knobs.apply(KsmSettings.of(withoutRun(scenario.ksm())), () -> 0, () -> {});
        ksmd = new Ksmd(model, knobs, scenario.host().ksmdNanosPerPage(), engine);
        hygiene = new GuestHygiene[guests.size()];
        churn = new GuestSpec.Churn[guests.size()];
        churnDebt = new double[guests.size()][4];
        epochs = new int[guests.size()];
        for (Guest g : guests) {
            hygiene[g.index] = new GuestHygiene(model, g, pageSizeBytes);
            churn[g.index] = g.spec.churn();
            allocations.add(new ArrayList<>());
        }
        // run last, as sysfs wants it (KsmSettings write order).
        knobs.apply(
                KsmSettings.of(Map.of(KsmKnob.RUN, scenario.ksm().getOrDefault(KsmKnob.RUN, "1"))), () -> 0, () -> {});
        for (Guest g : guests) {
            g.spec.startAt().ifPresent(at -> schedule(at.toNanos(), g.index, 0, () -> start(g)));
        }
    }

    private static Map<KsmKnob, String> withoutRun(Map<KsmKnob, String> ksm) {
        Map<KsmKnob, String> m = new EnumMap<>(KsmKnob.class);
        m.putAll(ksm);
        m.remove(KsmKnob.RUN);
        if (m.isEmpty()) {
            m.put(KsmKnob.SLEEP_MILLISECS, "20");
        }
        return m;
    }

    private static int[] regionEnds(GuestSpec spec, long groupPages) {
        GuestSpec.Layout l = spec.layout();
        int[] sizes = {
            l.osImagePages(), l.pageCachePages(), l.anonPages(), l.zeroPages(), l.secretPages(), (int) groupPages
        };
        int[] ends = new int[sizes.length];
        int end = 0;
        for (int i = 0; i < sizes.length; i++) {
            end += sizes[i];
            ends[i] = end;
        }
        return ends;
    }

    public Scenario scenario() {
        return scenario;
    }

    public HostModel model() {
        return model;
    }

    public Ksmd ksmd() {
        return ksmd;
    }

    public long pageSizeBytes() {
        return pageSizeBytes;
    }

    public GuestHygiene hygiene(Guest g) {
        return hygiene[g.index];
    }

    /** Simulated time since the scenario started. */
    public Duration elapsed() {
        return Duration.ofNanos(nowNanos);
    }

    public long nowNanos() {
        return nowNanos;
    }

    /** When ksmd wakes next (advanceTo it to run exactly up to and including that wake). */
    public long nextWakeNanos() {
        return Math.max(nowNanos, nextWakeNanos);
    }

    public double staleSecretPageSeconds() {
        return staleSecretPageSeconds;
    }

    /** Pages ksmd looked at (scanned, skipped, or passed over absent or zero-mapped): the simulator's work. */
    public long pageVisits() {
        return pageVisits;
    }

    /**
     * Host pages that back guest memory now: every present guest page that is neither mapped to the
     * zero page nor to a KSM page, plus one page per KSM page still mapped. Exact, not sampled.
     */
    public long residentPages() {
        long pages = model.stable.liveNodes();
        for (Guest g : model.guests) {
            pages += g.presentPages - g.zeroMergedPages - g.liveMergedPages;
        }
        return pages;
    }

    /** ksmd's share of one CPU over the last advance. */
    public double ksmdCpuPercent() {
        return lastStepNanos == 0 ? 0 : 100.0 * lastStepCpuNanos / lastStepNanos;
    }

    public KsmStats ksmStats() {
        return ksmd.stats(pageSizeBytes);
    }

    public List<KsmChange> applyKsm(KsmSettings settings) {
        boolean wasRunning = ksmd.knobs().run() == 1;
        List<KsmChange> changes = ksmd.apply(settings);
        if (!wasRunning && ksmd.knobs().run() == 1) {
            nextWakeNanos = nowNanos;
        }
        return changes;
    }

    public ScrubReport scrub(Guest g, long maxBytes) {
        return hygiene[g.index].scrub(maxBytes);
    }

    public void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("cannot advance by a negative duration " + d);
        }
        advanceTo(nowNanos + d.toNanos());
    }

    public void advanceTo(long targetNanos) {
        long startNanos = nowNanos;
        long startCpu = ksmd.cpuNanos();
        while (nowNanos < targetNanos) {
            long t = Math.min(targetNanos, nowNanos + MAX_STEP_NANOS);
            boolean ksmdRuns = ksmd.knobs().run() == 1;
            if (ksmdRuns) {
                t = Math.min(t, Math.max(nextWakeNanos, nowNanos));
            }
            if (!timers.isEmpty()) {
                t = Math.min(t, Math.max(timers.peek().atNanos(), nowNanos));
            }
            if (nextEvent < scenario.events().size()) {
                t = Math.min(t, Math.max(scenario.events().get(nextEvent).at().toNanos(), nowNanos));
            }
            for (GuestHygiene h : hygiene) {
                t = Math.min(t, Math.max(h.nextDueNanos(), nowNanos));
            }
            continuous(t);
            nowNanos = t;
            while (!timers.isEmpty() && timers.peek().atNanos() <= nowNanos) {
                Timer timer = timers.poll();
                if (epochs[timer.guest()] == timer.epoch()) {
                    timer.action().run();
                }
            }
            while (nextEvent < scenario.events().size()
                    && scenario.events().get(nextEvent).at().toNanos() <= nowNanos) {
                event(scenario.events().get(nextEvent++));
            }
            for (int i = 0; i < hygiene.length; i++) {
                if (model.guests[i].running && hygiene[i].nextDueNanos() <= nowNanos) {
                    hygiene[i].tick(nowNanos);
                }
            }
            if (ksmdRuns && nextWakeNanos <= nowNanos) {
                long cpu = ksmd.wake();
                nextWakeNanos = nextWake(nowNanos + cpu, ksmd.knobs().sleepMillisecs());
            } else if (!ksmdRuns) {
                nextWakeNanos = nowNanos;
            }
        }
        if (nowNanos > startNanos) {
            lastStepNanos = nowNanos - startNanos;
            lastStepCpuNanos = ksmd.cpuNanos() - startCpu;
        }
        pageVisits = ksmd.pagesVisited();
    }

    /**
     * ksm_scan_thread sleeps msecs_to_jiffies(sleep_millisecs) whole jiffies counted from the jiffy in
     * which its batch ended, plus one: the timer wheel rounds a level-0 expiry up by one jiffy so that
     * a timer armed at the edge of a tick never fires early (kernel/time/timer.c calc_index). It wakes
     * on a jiffy boundary. At HZ=250, sleep_millisecs=20 is a 24 ms period, as measured here.
     */
    private long nextWake(long batchEndNanos, long sleepMillis) {
        if (sleepMillis == 0) {
            return batchEndNanos + 1; // schedule_timeout(0): straight back to scanning
        }
        long jiffy = 1_000_000_000L / scenario.host().hz();
        long jiffies = (sleepMillis * scenario.host().hz() + 999) / 1000;
        return (batchEndNanos / jiffy + jiffies + 1) * jiffy;
    }

    /** Boot progress, churn and data remanence from now to {@code t}. */
    private void continuous(long t) {
        double seconds = (t - nowNanos) / 1e9;
        if (seconds <= 0) {
            return;
        }
        long staleSecret = 0;
        for (Guest g : model.guests) {
            if (!g.running) {
                continue;
            }
            if (g.bootCursor < g.pages) {
                writes.apply(); // the boot's writes come after the churn of the guests before it
                long bootNanos = g.spec.boot().toNanos();
                int target = bootNanos == 0
                        ? g.pages
                        : (int) Math.min(
                                g.pages, g.bootCursor + Math.ceil(g.pages * (t - nowNanos) / (double) bootNanos));
                populate(g, target, t);
            }
            churn(g, seconds);
            staleSecret += g.staleSecretFreePages;
        }
        writes.apply();
        staleSecretPageSeconds += staleSecret * seconds;
    }

    private void churn(Guest g, double seconds) {
        GuestSpec.Churn c = churn[g.index];
        double[] debt = churnDebt[g.index];
        debt[0] += c.anonPerSecond() * seconds;
        debt[1] += c.pageCachePerSecond() * seconds;
        debt[2] += c.secretPerSecond() * seconds;
        debt[3] += c.osImagePerSecond() * seconds;
        int image = imageIds[g.index];
        // An anon write only replaces one unique content with another, which nothing but an rmap item's
        // checksum can tell apart: while ksmd holds none (it has not run yet, as in a sweep's "off"
        // cells, or unmerged everything), the write is drawn, so that the writes after it land where
        // they would, but not applied. The first visit of the page reads whatever unique content it
        // holds then, with the same outcome.
        boolean anonSeen = ksmd.rmapItems() > 0;
        while (debt[0] >= 1) {
            debt[0]--;
            int offset = writeOffset(g, g.cacheEnd, g.anonEnd);
            if (offset >= 0 && anonSeen) {
                writes.addAnon(g, g.base + offset);
            }
        }
        int cachePages = g.cacheEnd - g.osEnd;
        while (debt[1] >= 1) {
            debt[1]--;
            int contentId = random.nextDouble() < g.spec.sharing().pageCache().of(cachePages) && cachePages > 0
                    ? Content.shared(
                            Content.PAGE_CACHE,
                            image,
                            random.nextInt(Math.min(Content.MAX_SHARED_INDEX, 2 * cachePages)))
                    : model.newUnique(Content.PAGE_CACHE);
            writeRandom(g, g.osEnd, g.cacheEnd, contentId);
        }
        while (debt[2] >= 1) {
            debt[2]--;
            writeRandom(g, g.zeroEnd, g.secretEnd, model.newUnique(Content.SECRET));
        }
        while (debt[3] >= 1) {
            debt[3]--;
            writeRandom(g, 0, g.osEnd, model.newUnique(Content.OS_IMAGE));
        }
    }

    private void writeRandom(Guest g, int from, int to, int contentId) {
        int offset = writeOffset(g, from, to);
        if (offset >= 0) {
            writes.add(g, g.base + offset, contentId);
        }
    }

    /** A random page offset in [from, to) of the guest, or -1 when the region is empty or not booted there yet. */
    private int writeOffset(Guest g, int from, int to) {
        if (to <= from) {
            return -1;
        }
        int offset = from + random.nextInt(to - from);
        return offset < g.bootCursor ? offset : -1;
    }

    /** The boot touches pages in address order up to {@code target}: in-use classes, then free memory. */
    private void populate(Guest g, int target, long t) {
        int image = imageIds[g.index];
        GuestSpec spec = g.spec;
        GuestSpec.FreeMemory free = spec.freeMemory();
        boolean initOnFree = spec.hygiene().mode() == HygieneMode.INIT_ON_FREE;
        long[] left = free.exact() ? freeCounts(g) : null;
        int inUse = Math.min(target, g.usedEnd);
        if (g.bootCursor < inUse) {
            bootInUse(g, g.bootCursor, inUse, image);
        }
        double staleFraction = free.stale().fraction();
        double staleOrZeroFraction = staleFraction + free.zero().fraction();
        double staleSecretFraction = free.staleSecret().fraction();
        for (int o = Math.max(g.bootCursor, inUse); o < target; o++) {
            int p = g.base + o;
            model.free(g, p);
            boolean stale;
            boolean zero;
            boolean secret;
            if (left == null) {
                double r = random.nextDouble();
                stale = r < staleFraction;
                zero = !stale && r < staleOrZeroFraction;
                secret = stale && random.nextDouble() < staleSecretFraction;
            } else {
                // Selection sampling: the next free page is stale with probability stale left / pages left.
                long r = random.nextLong(left[3]--);
                stale = r < left[0];
                zero = !stale && r < left[0] + left[2];
                secret = stale && random.nextLong(left[0]) < left[1];
                if (stale) {
                    left[1] -= secret ? 1 : 0;
                    left[0]--;
                } else if (zero) {
                    left[2]--;
                }
            }
            if (stale) {
                // Used during boot and freed: old data, unless the kernel zeroed it on free.
                int old = secret ? model.newUnique(Content.SECRET) : model.newUnique(Content.ANON);
                model.bootWrite(g, p, initOnFree ? Content.ZERO : old);
                hygiene[g.index].freed(p, t);
            } else if (zero) {
                model.bootWrite(g, p, Content.ZERO);
                hygiene[g.index].freed(p, t);
            }
        }
        model.booted(g, g.bootCursor, target);
        g.bootCursor = target;
        if (target == g.pages) {
            hygiene[g.index].booted(t);
            freeLeft[g.index] = null;
        }
    }

    /** Stale, stale secret and zero pages still to place in the guest's free memory, and free pages still to pass. */
    private long[] freeCounts(Guest g) {
        if (freeLeft[g.index] == null || g.bootCursor == 0) {
            GuestSpec.FreeMemory free = g.spec.freeMemory();
            long freePages = g.pages - g.usedEnd;
            long stale = free.stale().exact()
                    ? free.stale().pages()
                    : Math.round(free.stale().fraction() * freePages);
            long secret = free.staleSecret().exact()
                    ? free.staleSecret().pages()
                    : Math.round(free.staleSecret().fraction() * stale);
            long zero = free.zero().exact()
                    ? free.zero().pages()
                    : Math.round(free.zero().fraction() * freePages);
            freeLeft[g.index] = new long[] {stale, secret, zero, freePages};
        }
        return freeLeft[g.index];
    }

    /** The content of the {@code j}-th content-group page of the guest: its groups in order, each in dealing order. */
    private int groupContent(Guest g, long j) {
        List<ContentGroup> groups = scenario.contentGroups();
        for (int i = 0; i < groups.size(); i++) {
            ContentGroup c = groups.get(i);
            int position = c.guests().indexOf(g.name());
            long pages = position < 0 ? 0 : c.pagesOf(position);
            if (j < pages) {
                int k = c.contentAt(position, j);
                return Content.shared(
                        c.secret() ? Content.SECRET : Content.ANON,
                        groupSlots[i] + k / (Content.MAX_SHARED_INDEX + 1),
                        k % (Content.MAX_SHARED_INDEX + 1));
            }
            j -= pages;
        }
        throw new IllegalStateException(g.name() + " has no content-group page " + j);
    }

    /**
     * The boot's writes of the in-use offsets [from, to), in address order: each class's pages in a loop
     * of their own (the boot of a big host writes tens of millions of pages), the content-group pages
     * last.
     */
    private void bootInUse(Guest g, int from, int to, int image) {
        GuestSpec.Sharing s = g.spec.sharing();
        int o = bootImageClass(g, from, Math.min(to, g.osEnd), 0, image, Content.OS_IMAGE, s.osImage());
        o = bootImageClass(g, o, Math.min(to, g.cacheEnd), g.osEnd, image, Content.PAGE_CACHE, s.pageCache());
        for (int end = Math.min(to, g.anonEnd); o < end; o++) {
            model.bootWrite(g, g.base + o, model.newUnique(Content.ANON));
        }
        for (int end = Math.min(to, g.zeroEnd); o < end; o++) {
            model.bootWrite(g, g.base + o, Content.ZERO);
        }
        o = bootImageClass(g, o, Math.min(to, g.secretEnd), g.zeroEnd, image, Content.SECRET, s.secret());
        for (; o < to; o++) {
            model.bootWrite(g, g.base + o, groupContent(g, o - g.secretEnd));
        }
    }

    /**
     * The boot's writes of offsets [from, to) of a class that starts at offset {@code classStart}: the
     * image's shared content for the pages {@link #shared} picks, new unique content for the rest.
     * Returns where it stopped.
     */
    private int bootImageClass(
            Guest g, int from, int to, int classStart, int image, int pageClass, GuestSpec.Portion portion) {
        for (int o = from; o < to; o++) {
            int i = o - classStart;
            model.bootWrite(
                    g,
                    g.base + o,
                    shared(image, pageClass, i, portion)
                            ? Content.shared(pageClass, image, i)
                            : model.newUnique(pageClass));
        }
        return Math.max(from, to);
    }

    /**
     * Whether page {@code index} of a class is one of the pages every guest of the image has identical:
     * a hash of (image, class, index), so all guests of the image agree on which pages those are.
     */
    private static boolean shared(int image, int pageClass, int index, GuestSpec.Portion portion) {
        if (index > Content.MAX_SHARED_INDEX) {
            return false;
        }
        if (portion.exact()) {
            return index < portion.pages(); // a count: the class's first pages
        }
        double fraction = portion.fraction();
        long z = (long) image << 40 ^ (long) pageClass << 32 ^ index;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53 < fraction;
    }

    private void event(EventSpec e) {
        for (String name : e.guests()) {
            Guest g = guest(name);
            switch (e.action()) {
                case START -> start(g);
                case STOP -> stop(g);
                case ALLOCATE -> {
                    if (g.running) {
                        int[] pages = allocate(g, e.bytes() / pageSizeBytes, e.content());
                        allocations.get(g.index).add(pages);
                        e.hold()
                                .ifPresent(h -> schedule(
                                        nowNanos + h.toNanos(), g.index, epochs[g.index], () -> release(g, pages)));
                    }
                }
                case FREE -> {
                    for (int[] pages : List.copyOf(allocations.get(g.index))) {
                        release(g, pages);
                    }
                }
                case CHURN -> churn[g.index] = e.churn().orElseThrow();
                case SCRUB -> {
                    if (g.running && g.spec.hygiene().agent()) {
                        hygiene[g.index].scrub(e.bytes() == 0 ? Long.MAX_VALUE : e.bytes());
                    }
                }
            }
        }
    }

    public Guest guest(String name) {
        for (Guest g : model.guests) {
            if (g.name().equals(name)) {
                return g;
            }
        }
        throw new IllegalArgumentException("no guest named '" + name + "'");
    }

    public Guest guestByUuid(String uuid) {
        for (Guest g : model.guests) {
            if (g.uuid.equals(uuid)) {
                return g;
            }
        }
        throw new IllegalArgumentException("no simulated VM with UUID " + uuid);
    }

    /** The VM starts: QEMU maps guest RAM (mergeable unless nosharepages) and the guest boots. */
    public void start(Guest g) {
        if (g.running) {
            return;
        }
        g.running = true;
        g.bootCursor = 0;
        g.allocCursor = g.usedEnd;
        // The guest's free memory is free from the start; the boot fills the rest in address order.
        for (int p = g.base + g.usedEnd; p < g.base + g.pages; p++) {
            model.free(g, p);
        }
        if (g.mergeable()) {
            ksmd.enter(g);
        }
        if (g.spec.boot().isZero()) {
            populate(g, g.pages, nowNanos);
        }
    }

    /** The VM stops: QEMU exits, its memory goes back to the host. */
    public void stop(Guest g) {
        if (!g.running) {
            return;
        }
        ksmd.exit(g);
        Arrays.fill(model.flags, g.base, g.base + g.pages, (byte) 0);
        Arrays.fill(model.age, g.base, g.base + g.pages, (byte) 0);
        g.freePages = 0;
        g.staleSecretFreePages = 0;
        g.scrubRegionFreePages = 0;
        g.scrubRegionDirtyPages = 0;
        g.reportedPages = 0;
        g.running = false;
        g.bootCursor = 0;
        epochs[g.index]++;
        allocations.get(g.index).clear();
        hygiene[g.index].stopped();
    }

    /** The guest allocates: next-fit over its free pages, each written with the fill. */
    private int[] allocate(Guest g, long pages, EventSpec.Fill fill) {
        int[] taken = new int[(int) Math.min(pages, g.freePages)];
        int n = 0;
        int span = g.pages - g.usedEnd;
        for (int scanned = 0; scanned < span && n < taken.length; scanned++) {
            if (g.allocCursor >= g.pages) {
                g.allocCursor = g.usedEnd;
            }
            int p = g.base + g.allocCursor++;
            if ((model.flags[p] & PageFlags.FREE) != 0) {
                model.allocate(g, p);
                int contentId = switch (fill) {
                    case ZERO -> Content.ZERO;
                    case SECRET -> model.newUnique(Content.SECRET);
                    case UNIQUE -> model.newUnique(Content.ANON);
                };
                model.write(g, p, contentId);
                taken[n++] = p;
            }
        }
        return n == taken.length ? taken : Arrays.copyOf(taken, n);
    }

    private void release(Guest g, int[] pages) {
        if (!allocations.get(g.index).remove(pages)) {
            return;
        }
        for (int p : pages) {
            model.free(g, p);
            hygiene[g.index].freed(p, nowNanos);
        }
        hygiene[g.index].largeFree(pages.length, nowNanos);
    }

    /**
     * Refuses, before allocating, a host that cannot fit this JVM's heap (HeapEstimate): a clear message
     * instead of an OutOfMemoryError half-way through building it.
     */
    private static void requireHeapFor(Scenario scenario) {
        HeapEstimate need = HeapEstimate.of(scenario);
        long maxHeapBytes = Runtime.getRuntime().maxMemory();
        if (need.bytes() > maxHeapBytes * 9 / 10) {
            throw new IllegalStateException(String.format(
                    "the scenario needs about %d MiB of heap (%s), more than this JVM's %d MiB allow;"
                            + " bin/memhygiene sizes the heap from the scenario, from Java give it -Xmx%dm (docs/SIMULATOR.md, \"Heap\")",
                    need.bytes() >> 20, need.describe(), maxHeapBytes >> 20, need.maxHeapBytes(1) >> 20));
        }
    }
}
