package org.memhygiene.simulator.fidelity;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.simulator.Simulation;
import org.memhygiene.simulator.model.Guest;
import org.memhygiene.simulator.model.HostModel;
import org.memhygiene.simulator.model.PageFlags;
import org.memhygiene.simulator.scenario.GuestSpec;
import org.memhygiene.simulator.scenario.HygieneMode;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/**
 * Runs a scenario twice, for real on this machine's KSM and in the simulator, and compares
 * pages_shared, pages_sharing, pages_unshared, ksm_zero_pages and full_scans over time
 * (docs/SIMULATOR.md, "Fidelity"). The real run has one child process per guest
 * ({@link FidelityChild}) holding the guest's simulated contents in MADV_MERGEABLE memory, and
 * replays every page the simulated guests write or discard at the same moment. Changes the KSM knobs
 * and puts them back. Run it under {@code flock /tmp/memhygiene-ksm.lock}: KSM is one per machine.
 */
public final class FidelityHarness {
    /** The shipped fidelity scenarios (resources). */
    public static final List<String> SCENARIOS = List.of(
            "/org/memhygiene/simulator/scenarios/fidelity-zero-pages.yaml",
            "/org/memhygiene/simulator/scenarios/fidelity-chains.yaml");

    private static final long STEP_NANOS = 5_000_000;
    private static final List<KsmKnob> TOUCHED = List.of(
            KsmKnob.RUN,
            KsmKnob.ADVISOR_MODE,
            KsmKnob.MERGE_ACROSS_NODES,
            KsmKnob.MAX_PAGE_SHARING,
            KsmKnob.PAGES_TO_SCAN,
            KsmKnob.SLEEP_MILLISECS,
            KsmKnob.USE_ZERO_PAGES,
            KsmKnob.SMART_SCAN);

    private FidelityHarness() {}

    /** The counters compared, at {@code seconds} after run=1 (full_scans counted from then). */
    public record Sample(
            double seconds,
            long pagesShared,
            long pagesSharing,
            long pagesUnshared,
            long ksmZeroPages,
            long fullScans,
            long pagesScanned) {
        long get(int i) {
            return switch (i) {
                case 0 -> pagesShared;
                case 1 -> pagesSharing;
                case 2 -> pagesUnshared;
                case 3 -> ksmZeroPages;
                default -> fullScans;
            };
        }
    }

    static final String[] COUNTERS = {"pages_shared", "pages_sharing", "pages_unshared", "ksm_zero_pages", "full_scans"
    };

    /**
     * @param compared       samples after the first full scan, the ones the target applies to
     * @param worstPercent   per counter, the largest |sim - real| / real over those samples, in percent
     * @param worstPages     per counter, the largest |sim - real| over those samples
     * @param simulated      the simulation aligned with the real run by ksmd's progress (the target's basis)
     * @param simulatedByTime the simulation on its own clock at the real samples' times
     * @param worstPagesByTime per counter, the largest error of simulatedByTime (the model's timing included)
     * @param violations     samples outside max(5 %, 16 pages) (full_scans: max(5 %, 1 scan))
     * @param otherMergeable other processes with mergeable memory during the run (they skew host counters)
     */
    public record Report(
            String scenario,
            List<Sample> real,
            List<Sample> simulated,
            List<Sample> simulatedByTime,
            int compared,
            double[] worstPercent,
            long[] worstPages,
            long[] worstPagesByTime,
            List<String> violations,
            List<String> otherMergeable) {
        public boolean withinTarget() {
            return violations.isEmpty() && compared > 0;
        }
    }

    /** A recorded page change of the simulated run: at a time, in a guest, a page written or discarded. */
    private record Change(long atNanos, int guest, int page, int content, boolean discard) {}

    /** Changes from index {@code from} on, applied for real when ksmd had scanned {@code pagesScanned} pages. */
    private record Applied(int from, int to, long pagesScanned) {}

    /** Why a real run is impossible on this machine, or null when it can run. */
    public static String unavailableReason() {
        Path root = KsmSysfs.DEFAULT_ROOT;
        if (!Files.isWritable(root.resolve("run"))) {
            return "needs root and a kernel with KSM (" + root + "/run not writable)";
        }
        if (!Files.exists(root.resolve("ksm_zero_pages")) || !Files.exists(root.resolve("smart_scan"))) {
            return "needs Linux 6.7+ (ksm_zero_pages, smart_scan)";
        }
        return null;
    }

    public static Report run(Scenario s) throws IOException, InterruptedException {
        check(s);
        long durationNanos = s.duration().toNanos();
        Simulation shadow = new Simulation(s);
        shadow.advanceTo(1);
        HostModel m = shadow.model();
        int[][] initial = new int[m.guests.length][];
        for (Guest g : m.guests) {
            initial[g.index] = contents(m, g);
        }
        List<Change> changes = changes(shadow, durationNanos);

        String reason = unavailableReason();
        if (reason != null) {
            throw new IllegalStateException("no real run possible: " + reason);
        }
        List<String> busy = mergeableProcesses();
        if (!busy.isEmpty()) {
            throw new IllegalStateException("other processes use KSM (" + String.join(", ", busy) + "): a real run"
                    + " would unmerge their pages and count them; run it when they are gone");
        }
        List<Sample> real = new ArrayList<>();
        List<Applied> applied = new ArrayList<>();
        List<String> others;
        List<Process> children = new ArrayList<>();
        Path dir = Files.createTempDirectory("memhygiene-fidelity");
        KsmSysfs ksm = new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
        // Every knob touched goes back at the end, also on a failure or a signal; run=2 first unmerges what
        // the children left, so merge_across_nodes and max_page_sharing can go back too.
        KsmRestorePoint restorePoint = KsmRestorePoint.of(ksm, TOUCHED, true);
        Thread hook = restorePoint.restoreOnShutdown();
        try {
            ksm.apply(KsmSettings.parse(List.of("run=2", "advisor_mode=none")));
            others = mergeableProcesses();
            long salt = new Random().nextLong() | 1;
            List<Writer> inputs = new ArrayList<>();
            List<BufferedReader> outputs = new ArrayList<>();
            for (Guest g : m.guests) {
                Path file = dir.resolve(g.name() + ".contents");
                try (DataOutputStream out =
                        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
                    for (int c : initial[g.index]) {
                        out.writeInt(c);
                    }
                }
                Process child = new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java")
                                        .toString(),
                                "-Xmx32m",
                                "-XX:TieredStopAtLevel=1",
                                "-cp",
                                System.getProperty("java.class.path"),
                                FidelityChild.class.getName(),
                                Integer.toString(g.pages),
                                Long.toString(salt),
                                file.toString())
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
                children.add(child);
                BufferedReader out =
                        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII));
                String line = out.readLine();
                if (!"ready".equals(line)) {
                    throw new IOException("fidelity child for " + g.name() + " said " + line);
                }
                inputs.add(new OutputStreamWriter(child.getOutputStream(), StandardCharsets.US_ASCII));
                outputs.add(out);
            }
            Map<KsmKnob, String> knobs = new EnumMap<>(s.ksm());
            knobs.remove(KsmKnob.RUN);
            if (!knobs.isEmpty()) {
                ksm.apply(KsmSettings.of(knobs));
            }
            KsmStats before = ksm.readSettled();
            long fullScansBefore = before.fullScans().orElseThrow();
            long scannedBefore = before.pagesScanned().orElseThrow();
            ksm.apply(KsmSettings.parse(List.of("run=1")));
            long t0 = System.nanoTime();
            long every = s.sampleInterval().toNanos();
            int next = 0;
            for (long sampleAt = every; sampleAt <= durationNanos; sampleAt += every) {
                while (true) {
                    long due = Math.min(
                            sampleAt, next < changes.size() ? changes.get(next).atNanos() : Long.MAX_VALUE);
                    long wait = t0 + due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    if (next < changes.size()
                            && changes.get(next).atNanos() <= System.nanoTime() - t0
                            && changes.get(next).atNanos() <= sampleAt) {
                        long batchAt = changes.get(next).atNanos();
                        int from = next;
                        // ksmd paused while the children write: run_store (mm/ksm.c) takes
                        // ksm_thread_mutex, which ksmd holds for a whole batch, so no batch sees the
                        // changes half made and the replay applies them at exactly the pages scanned
                        // read below (a batch between two children's writes once put a sample 99
                        // pages off).
                        ksm.apply(KsmSettings.parse(List.of("run=0")));
                        while (next < changes.size() && changes.get(next).atNanos() == batchAt) {
                            Change c = changes.get(next++);
                            inputs.get(c.guest())
                                    .write(
                                            c.discard()
                                                    ? "d " + c.page() + "\n"
                                                    : "w " + c.page() + " " + c.content() + "\n");
                        }
                        // Wait until every child has made its writes, so a sample never sees them half done.
                        for (Writer w : inputs) {
                            w.write(".\n");
                            w.flush();
                        }
                        for (BufferedReader r : outputs) {
                            if (!"ok".equals(r.readLine())) {
                                throw new IOException("a fidelity child did not acknowledge its page changes");
                            }
                        }
                        long scannedNow = ksm.readSettled().pagesScanned().orElseThrow() - scannedBefore;
                        ksm.apply(KsmSettings.parse(List.of("run=1")));
                        applied.add(new Applied(from, next, scannedNow));
                        continue;
                    }
                    if (System.nanoTime() - t0 >= sampleAt) {
                        break;
                    }
                }
                long at = System.nanoTime() - t0;
                KsmStats k = ksm.readSettled();
                real.add(new Sample(
                        at / 1e9,
                        k.pagesShared().orElseThrow(),
                        k.pagesSharing().orElseThrow(),
                        k.pagesUnshared().orElseThrow(),
                        k.ksmZeroPages().orElseThrow(),
                        k.fullScans().orElseThrow() - fullScansBefore,
                        k.pagesScanned().orElseThrow() - scannedBefore));
            }
            for (Writer w : inputs) {
                w.close();
            }
        } finally {
            try {
                for (Process p : children) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.delete(f);
                    }
                }
                Files.delete(dir);
            } finally {
                restorePoint.restore();
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
        List<Sample> byTime = new ArrayList<>();
        Simulation timed = new Simulation(s);
        for (Sample r : real) {
            timed.advanceTo(Math.round(r.seconds() * 1e9));
            byTime.add(sample(timed, r.seconds()));
        }
        List<Sample> byProgress = replay(s, changes, applied, real);
        return compare(s.name(), real, byProgress, byTime, others);
    }

    private static Sample sample(Simulation sim, double seconds) {
        KsmStats k = sim.ksmStats();
        return new Sample(
                seconds,
                k.pagesShared().orElseThrow(),
                k.pagesSharing().orElseThrow(),
                k.pagesUnshared().orElseThrow(),
                k.ksmZeroPages().orElseThrow(),
                k.fullScans().orElseThrow(),
                k.pagesScanned().orElseThrow());
    }

    /**
     * The simulated run aligned with the real one by ksmd's progress instead of the clock: the simulation
     * (without its own events) runs wake by wake until it has scanned as many pages as the real ksmd had
     * at each sample, and each recorded page change is applied when the simulated ksmd has scanned as
     * many pages as the real one had when the change was made for real. This takes out how late the
     * real ksmd ran on a busy machine, which the simulator cannot know, and compares what ksmd did.
     */
    private static List<Sample> replay(Scenario s, List<Change> changes, List<Applied> applied, List<Sample> real) {
        Simulation sim = new Simulation(s.withEvents(List.of()));
        sim.advanceTo(1);
        HostModel m = sim.model();
        int batch = 0;
        List<Sample> out = new ArrayList<>();
        for (Sample r : real) {
            while (true) {
                while (batch < applied.size()
                        && applied.get(batch).pagesScanned() <= sim.ksmd().pagesScanned()
                        && applied.get(batch).pagesScanned() <= r.pagesScanned()) {
                    Applied a = applied.get(batch++);
                    for (Change c : changes.subList(a.from(), a.to())) {
                        Guest g = m.guests[c.guest()];
                        if (c.discard()) {
                            m.discard(g, g.base + c.page(), false);
                        } else {
                            m.write(g, g.base + c.page(), c.content());
                        }
                    }
                }
                if (sim.ksmd().pagesScanned() >= r.pagesScanned() || sim.nextWakeNanos() <= sim.nowNanos()) {
                    break;
                }
                sim.advanceTo(sim.nextWakeNanos());
            }
            out.add(sample(sim, r.seconds()));
        }
        return out;
    }

    private static void check(Scenario s) {
        for (GuestSpec g : s.guests()) {
            if (!g.startAt().equals(Optional.of(Duration.ZERO))
                    || !g.boot().isZero()
                    || !g.churn().equals(GuestSpec.Churn.IDLE)) {
                throw new IllegalArgumentException(
                        "guest " + g.name() + " of " + s.name() + ": a fidelity scenario starts"
                                + " every guest at 0s with boot: 0s and no churn (random writes cannot be replayed page for page)");
            }
            if (g.hygiene().mode() != HygieneMode.NONE && g.hygiene().mode() != HygieneMode.INIT_ON_FREE) {
                throw new IllegalArgumentException(
                        "guest " + g.name() + " of " + s.name() + ": a fidelity scenario uses"
                                + " hygiene none or init_on_free (their page changes are replayed exactly)");
            }
        }
    }

    private static int[] contents(HostModel m, Guest g) {
        int[] c = new int[g.pages];
        for (int i = 0; i < g.pages; i++) {
            int p = g.base + i;
            c[i] = m.has(p, PageFlags.PRESENT) ? m.content[p] : FidelityChild.ABSENT;
        }
        return c;
    }

    /** Steps the simulation in 5 ms steps and records every page whose content or presence changed. */
    private static List<Change> changes(Simulation sim, long durationNanos) {
        HostModel m = sim.model();
        int[] content = m.content.clone();
        byte[] present = new byte[m.pageCount];
        for (int p = 0; p < m.pageCount; p++) {
            present[p] = (byte) (m.flags[p] & PageFlags.PRESENT);
        }
        List<Change> changes = new ArrayList<>();
        for (long t = STEP_NANOS; t <= durationNanos; t += STEP_NANOS) {
            sim.advanceTo(t);
            for (Guest g : m.guests) {
                for (int i = 0; i < g.pages; i++) {
                    int p = g.base + i;
                    byte nowPresent = (byte) (m.flags[p] & PageFlags.PRESENT);
                    if (nowPresent != present[p] || m.content[p] != content[p]) {
                        changes.add(new Change(t, g.index, i, m.content[p], nowPresent == 0));
                        present[p] = nowPresent;
                        content[p] = m.content[p];
                    }
                }
            }
        }
        return changes;
    }

    /**
     * Processes with mergeable memory (ksm_mergeable: yes, or rmap items, in /proc/PID/ksm_stat), e.g.
     * running VMs: a real run would unmerge their pages (run=2) and their pages would skew the
     * host-wide counters, so {@link #run} refuses while there are any.
     */
    public static List<String> mergeableProcesses() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .toList()) {
                try {
                    String stat = Files.readString(p.resolve("ksm_stat"));
                    if (stat.lines()
                            .anyMatch(l -> l.replace(":", "").equals("ksm_mergeable yes")
                                    || l.startsWith("ksm_rmap_items ") && !l.equals("ksm_rmap_items 0"))) {
                        found.add(p.getFileName() + " ("
                                + Files.readString(p.resolve("comm")).strip() + ")");
                    }
                } catch (IOException gone) {
                    // exited meanwhile, or no ksm_stat
                }
            }
        }
        return found;
    }

    static Report compare(
            String name, List<Sample> real, List<Sample> simulated, List<Sample> byTime, List<String> others) {
        double[] worstPercent = new double[COUNTERS.length];
        long[] worstPages = new long[COUNTERS.length];
        List<String> violations = new ArrayList<>();
        int compared = 0;
        for (int i = 0; i < real.size(); i++) {
            Sample r = real.get(i);
            Sample m = simulated.get(i);
            if (r.fullScans() < 1) {
                continue;
            }
            compared++;
            for (int c = 0; c < COUNTERS.length; c++) {
                long error = Math.abs(m.get(c) - r.get(c));
                double tolerance = Math.max(0.05 * r.get(c), c == 4 ? 1 : 16);
                worstPages[c] = Math.max(worstPages[c], error);
                if (r.get(c) > 0) {
                    worstPercent[c] = Math.max(worstPercent[c], 100.0 * error / r.get(c));
                }
                if (error > tolerance) {
                    violations.add(String.format(
                            Locale.ROOT,
                            "%.2f s %s: real %d, simulated %d",
                            r.seconds(),
                            COUNTERS[c],
                            r.get(c),
                            m.get(c)));
                }
            }
        }
        long[] worstByTime = new long[COUNTERS.length];
        for (int i = 0; i < real.size(); i++) {
            if (real.get(i).fullScans() >= 1) {
                for (int c = 0; c < COUNTERS.length; c++) {
                    worstByTime[c] = Math.max(
                            worstByTime[c],
                            Math.abs(byTime.get(i).get(c) - real.get(i).get(c)));
                }
            }
        }
        return new Report(
                name, real, simulated, byTime, compared, worstPercent, worstPages, worstByTime, violations, others);
    }

    /** The report as markdown: a summary line per counter and every {@code stride}-th sample. */
    public static String markdown(Report r, int stride) {
        StringBuilder b = new StringBuilder();
        b.append("#### ").append(r.scenario()).append("\n\n");
        b.append(String.format(
                Locale.ROOT,
                "%d samples after the first full scan; target %s.%n%n",
                r.compared(),
                r.withinTarget() ? "met" : "NOT met (" + r.violations().size() + " violations)"));
        Sample last = r.real().get(r.real().size() - 1);
        Sample lastTimed = r.simulatedByTime().get(r.simulatedByTime().size() - 1);
        b.append(String.format(
                Locale.ROOT,
                "ksmd scanned %d pages in %.1f s for real, %d in the simulation's own time.%n%n",
                last.pagesScanned(),
                last.seconds(),
                lastTimed.pagesScanned()));
        b.append("| counter | worst error, by ksmd progress (pages) | (% of real) | worst error, by clock (pages) |\n"
                + "|---|---:|---:|---:|\n");
        for (int c = 0; c < COUNTERS.length; c++) {
            b.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %.1f | %d |%n",
                    COUNTERS[c],
                    r.worstPages()[c],
                    r.worstPercent()[c],
                    r.worstPagesByTime()[c]));
        }
        b.append("\n| t (s) | pages_shared real / sim | pages_sharing real / sim | pages_unshared real / sim"
                + " | ksm_zero_pages real / sim | full_scans real / sim |\n|---:|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < r.real().size(); i += stride) {
            Sample a = r.real().get(i);
            Sample m = r.simulated().get(i);
            b.append(String.format(
                    Locale.ROOT,
                    "| %.1f | %d / %d | %d / %d | %d / %d | %d / %d | %d / %d |%n",
                    a.seconds(),
                    a.pagesShared(),
                    m.pagesShared(),
                    a.pagesSharing(),
                    m.pagesSharing(),
                    a.pagesUnshared(),
                    m.pagesUnshared(),
                    a.ksmZeroPages(),
                    m.ksmZeroPages(),
                    a.fullScans(),
                    m.fullScans()));
        }
        if (!r.otherMergeable().isEmpty()) {
            b.append("\nOther processes with mergeable memory during the run: ")
                    .append(r.otherMergeable())
                    .append('\n');
        }
        return b.toString();
    }

    /**
     * {@code java -cp ... FidelityHarness [SCENARIO.yaml ...]}: runs the given (default: the shipped)
     * fidelity scenarios and prints the markdown for docs/SIMULATOR.md. Exit 1 when a target is missed.
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        List<Scenario> scenarios = new ArrayList<>();
        if (args.length == 0) {
            SCENARIOS.forEach(r -> scenarios.add(ScenarioParser.resource(r)));
        } else {
            Arrays.stream(args).forEach(a -> scenarios.add(ScenarioParser.load(Path.of(a))));
        }
        boolean ok = true;
        for (Scenario s : scenarios) {
            Report r = run(s);
            out.println(markdown(r, Math.max(1, r.real().size() / 12)));
            r.violations().stream().limit(20).forEach(v -> out.println("  outside target: " + v));
            ok &= r.withinTarget();
        }
        System.exit(ok ? 0 : 1);
    }
}
