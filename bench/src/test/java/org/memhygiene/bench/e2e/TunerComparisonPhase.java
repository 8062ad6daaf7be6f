package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's ksmtuned against memhygiene's adaptive policy, each as shipped (the policy with the settings
 * its file below names), each on a fresh pair of dense guests filled with random data that then free
 * it, from the same start (KSM reset and stopped, the kernel's default rate, zero pages on), with the
 * same host /proc/meminfo showing free memory at 10 % of MemTotal (a mount namespace of their own):
 * a point every {@link #COMPARISON_STEP} for {@link #COMPARISON_TIME}. ksmtuned's pair is the one
 * {@link KsmStoppedGuests} booted; the adaptive policy's boots after ksmtuned stopped (ksmtuned's ksmd
 * would scan it). A run that another process disturbed (KSM reset or zero pages turned off) is run
 * again once; the check fails when the second was disturbed too.
 */
final class TunerComparisonPhase implements Phase<TunerComparisonPhase.Result> {
    /**
     * How long each tuner runs. Both curves are flat well before (ksmtuned after 2-3 full scans, the
     * adaptive policy 2 full scans after its scrub; RESULTS.md has the curves of longer runs), and
     * ksmtuned's CPU, which goes on for no gain after that, is counted for less time: a shorter window
     * favours ksmtuned in reclaimed memory per ksmd CPU-second.
     */
    static final Duration COMPARISON_TIME = Duration.ofSeconds(35);

    static final Duration COMPARISON_STEP = Duration.ofSeconds(5);
    static final List<String> TUNERS = List.of("ksmtuned", "memhygiene adaptive");

    /**
     * One moment of a tuner's run. Host memory reclaimed is the drop of both QEMU processes' RSS plus what
     * KSM saves by sharing pages between them: a page merged across the two guests stays in both RSS
     * figures but exists once (Δpages_sharing, host-wide; no other KSM user runs while the suite holds
     * the lock). Zero pages and zero subpages of split THPs leave RSS, so they are in the RSS drop.
     */
    record Point(
            long seconds,
            long rssDropBytes,
            long sharingBytes,
            long ksmSavedBytes,
            long ksmdCpuMillis,
            long fullScans,
            long pagesToScan,
            long sleepMillis,
            long run) {
        long reclaimedBytes() {
            return rssDropBytes + sharingBytes;
        }
    }

    /** Each tuner's points, in {@link #TUNERS} order, and the adaptive policy's first decisions (its log). */
    record Result(Map<String, List<Point>> series, String adaptiveDecisions, List<Check> checks)
            implements PhaseResult {}

    private record TunerRun(List<Point> points, String disturbance) {}

    private final RealVmFixture fixture;
    private final List<Guest> ksmtunedPair;
    private final Map<String, Long> ksmtunedPairFreed;

    TunerComparisonPhase(RealVmFixture fixture, KsmStoppedGuests guests) {
        this.fixture = fixture;
        this.ksmtunedPair = guests.ksmtunedPair();
        this.ksmtunedPairFreed = guests.freed();
    }

    /**
     * The same start for both tuners: every KSM merge undone and its state reset (run=2, so neither run
     * inherits the other's merged pages or the dead guests' rmap items), then the kernel's default rate,
     * stopped, zero pages on.
     */
    static void resetKsm() {
        HostMeters.setKsm("run", 2);
        RealVmFixture.setKsm(100, 20, 0);
    }

    static List<Guest> bootPair(Fleet fleet) throws Exception {
        return List.of(
                fleet.boot("memhygiene-e2e-cmp-1", "", false, Guest.SMALL_GUEST_MIB),
                fleet.boot("memhygiene-e2e-cmp-2", "", false, Guest.SMALL_GUEST_MIB));
    }

    @Override
    public Result run() throws Exception {
        Path dir = PhaseDirectory.create("tuners");
        Path meminfo = dir.resolve("meminfo");
        Files.writeString(meminfo, tightMeminfo());
        Map<String, List<Point>> series = new LinkedHashMap<>();
        List<Check> checks = new ArrayList<>();
        List<Guest> pair = ksmtunedPair;
        Map<String, Long> freed = ksmtunedPairFreed;
        for (String tuner : TUNERS) {
            TunerRun run = null;
            for (int attempt = 1; attempt <= 2 && (run == null || run.disturbance() != null); attempt++) {
                if (run != null) {
                    log("%s: KSM was disturbed by another process (%s); running it again", tuner, run.disturbance());
                }
                if (pair == null) {
                    resetKsm();
                    pair = bootPair(fixture.fleet());
                    fixture.fleet().ready(pair);
                    freed = fixture.fleet().fill(pair);
                    fixture.lap("3 " + tuner + ": boot and fill its pair");
                }
                run = runTuner(tuner, pair, freed, dir, meminfo);
                pair = null;
                fixture.lap("3 " + tuner + ": " + COMPARISON_TIME.toSeconds() + " s run, guests destroyed");
            }
            if (run.disturbance() != null) {
                checks.add(Check.of(
                        false,
                        "%s run invalid twice: KSM was disturbed by another process (%s)",
                        tuner,
                        run.disturbance()));
            }
            series.put(tuner, run.points());
        }
        checks.add(perCpuSecondCheck(series));
        Result result =
                new Result(series, decisions(ControllerDaemon.logFile(dir, logName("memhygiene adaptive"))), checks);
        PhaseDirectory.removeUnlessFailed(dir, checks);
        return result;
    }

    /**
     * The adaptive policy's defaults, except: a decision every 5 s (the comparison lasts 35 s); KSM started
     * at ksmtuned's own starting rate (300 pages per 10 ms; the default, 100 per 20 ms, needs ~40 s per full
     * scan of these two guests) with that as the floor, and a CPU budget of 10 % of a core (what ksmtuned's
     * ksmd used in longer runs; the default is 5 %); guests from 96 MiB free may be asked to scrub (these
     * guests have {@link Guest#SMALL_GUEST_MIB} MiB; the default is 1 GiB).
     */
    private static final String ADAPTIVE_POLICY = """
            mode: adaptive
            interval: 5s
            adaptive:
              pages_to_scan_min: 300
              sleep_millisecs_min: 10
              cpu_budget_percent: 10
            scrub:
              min_guest_free_bytes: 96M
            """;

    /**
     * The adaptive policy reclaims at least {@link #MIN_PER_CPU_SECOND_RATIO}× what ksmtuned does per ksmd
     * CPU-second, each at the end of its window (issue 15; six earlier runs gave 3.4–4.7×).
     */
    static Check perCpuSecondCheck(Map<String, List<Point>> series) {
        Point ksmtuned = series.get(TUNERS.get(0)).get(series.get(TUNERS.get(0)).size() - 1);
        Point adaptive = series.get(TUNERS.get(1)).get(series.get(TUNERS.get(1)).size() - 1);
        double ksmtunedRate = perCpuSecond(ksmtuned);
        double adaptiveRate = perCpuSecond(adaptive);
        return Check.of(
                adaptiveRate >= MIN_PER_CPU_SECOND_RATIO * ksmtunedRate,
                "adaptive policy reclaimed %s for %.2f s of ksmd CPU (%.1f MiB per CPU-second), ksmtuned %s for %.2f s"
                        + " (%.1f MiB per CPU-second): %.1f× (target ≥ %.0f×)",
                Mib.format(adaptive.reclaimedBytes()),
                adaptive.ksmdCpuMillis() / 1000.0,
                adaptiveRate,
                Mib.format(ksmtuned.reclaimedBytes()),
                ksmtuned.ksmdCpuMillis() / 1000.0,
                ksmtunedRate,
                adaptiveRate / ksmtunedRate,
                MIN_PER_CPU_SECOND_RATIO);
    }

    static final double MIN_PER_CPU_SECOND_RATIO = 2;

    private static double perCpuSecond(Point p) {
        // CPU time comes in 10 ms ticks: at least one, so a run that used none is not a division by zero
        return (double) p.reclaimedBytes() / Mib.BYTES / (Math.max(10, p.ksmdCpuMillis()) / 1000.0);
    }

    private static String logName(String tuner) {
        return tuner.replace(' ', '-');
    }

    /**
     * One tuner on a fresh, filled pair of guests (KSM reset and stopped since they booted): the pair
     * frees its memory, the tuner starts; a point every {@link #COMPARISON_STEP}. Destroys the pair.
     */
    private TunerRun runTuner(String tuner, List<Guest> pair, Map<String, Long> freed, Path dir, Path meminfo)
            throws Exception {
        HostMeters meters = fixture.meters();
        Path state = fixture.host().state();
        Map<String, Long> filledRss = Fleet.rss(pair);
        fixture.fleet().parallel(pair, g -> g.sh("rm /dev/shm/fill", Duration.ofSeconds(60)));
        long filledSum = filledRss.values().stream().mapToLong(Long::longValue).sum();
        long savedStart =
                pair.stream().mapToLong(g -> g.sample().ksmSavedBytes()).sum();
        HostMeters.HostSample start = meters.host();
        log(
                "%s: starting on %s freed",
                tuner,
                Mib.format(pair.stream().mapToLong(g -> freed.get(g.name)).sum()));
        Path log = ControllerDaemon.logFile(dir, logName(tuner));
        long ksmtunedPid = 0;
        ControllerDaemon daemon = null;
        if (tuner.equals("ksmtuned")) {
            Path pidFile = dir.resolve("ksmtuned.pid");
            // ksmtuned forks its loop and writes the loop's pid to $PIDFILE; SIGUSR1 makes it adjust now,
            // as its header says to do "right after a new qemu process is started".
            new ProcessBuilder(
                            "unshare",
                            "-m",
                            "--",
                            "sh",
                            "-c",
                            "mount --bind \"$0\" /proc/meminfo && PIDFILE=\"$1\" exec /usr/sbin/ksmtuned",
                            meminfo.toString(),
                            pidFile.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start()
                    .waitFor();
            ksmtunedPid = Long.parseLong(Files.readString(pidFile).trim());
            Files.writeString(state.resolve("ksmtuned.pid"), Long.toString(ksmtunedPid));
            Thread.sleep(300);
            new ProcessBuilder("kill", "-USR1", Long.toString(ksmtunedPid))
                    .start()
                    .waitFor();
        } else {
            daemon = ControllerDaemon.start(fixture, dir, logName(tuner), ADAPTIVE_POLICY, Optional.of(meminfo));
        }
        List<Point> points = new ArrayList<>();
        String disturbance = null;
        long lastFullScans = start.fullScans();
        long began = System.nanoTime();
        try {
            for (long s = 0; s <= COMPARISON_TIME.toSeconds(); s += COMPARISON_STEP.toSeconds()) {
                long wait = began + s * 1_000_000_000L - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000);
                }
                HostMeters.HostSample h = meters.host();
                // Neither tuner unmerges (run=2 resets full_scans) or turns zero pages off: another process did.
                if (disturbance == null && h.fullScans() < lastFullScans) {
                    disturbance = "full_scans fell from " + lastFullScans + " to " + h.fullScans() + " at " + s
                            + " s: run=2 was written";
                } else if (disturbance == null && HostMeters.ksm("use_zero_pages") != 1) {
                    disturbance = "use_zero_pages was set to 0 at " + s + " s";
                }
                lastFullScans = h.fullScans();
                long rss = pair.stream().mapToLong(g -> g.sample().rssBytes()).sum();
                long saved =
                        pair.stream().mapToLong(g -> g.sample().ksmSavedBytes()).sum();
                points.add(new Point(
                        s,
                        filledSum - rss,
                        (h.pagesSharing() - start.pagesSharing()) * HostMeters.PAGE_SIZE_BYTES,
                        saved - savedStart,
                        h.ksmdCpuMillis() - start.ksmdCpuMillis(),
                        h.fullScans() - start.fullScans(),
                        HostMeters.ksm("pages_to_scan"),
                        HostMeters.ksm("sleep_millisecs"),
                        HostMeters.ksm("run")));
            }
        } finally {
            if (ksmtunedPid != 0) {
                stopKsmtuned(ksmtunedPid);
            }
            if (daemon != null) {
                daemon.close();
            }
            Files.deleteIfExists(state.resolve("ksmtuned.pid"));
            HostMeters.setKsm("run", 0);
        }
        for (Guest g : pair) {
            fixture.fleet().close(g);
        }
        return new TunerRun(points, disturbance);
    }

    private static void stopKsmtuned(long pid) throws Exception {
        // Its pending `sleep 60` is a child of the loop: stop both, by pid.
        String children = Cli.run(List.of("pgrep", "-P", Long.toString(pid)), Duration.ofSeconds(10))
                .stdout()
                .trim();
        new ProcessBuilder("kill", Long.toString(pid)).start().waitFor();
        for (String child : children.split("\\s+")) {
            if (!child.isBlank()) {
                new ProcessBuilder("kill", child).start().waitFor();
            }
        }
    }

    /** The host's /proc/meminfo with free memory at 10 % of MemTotal, for both tuners (see RESULTS.md). */
    private static String tightMeminfo() {
        String real = HostMeters.read(Path.of("/proc/meminfo"));
        long totalKib = HostMeters.keyValues(Path.of("/proc/meminfo"), ":").get("MemTotal");
        StringBuilder out = new StringBuilder();
        for (String line : real.split("\n")) {
            String key = line.substring(0, line.indexOf(':'));
            long value = switch (key) {
                case "MemFree", "MemAvailable" -> totalKib / 10;
                case "Buffers", "Cached" -> 0;
                default -> -1;
            };
            out.append(value < 0 ? line : String.format("%-16s%8d kB", key + ":", value))
                    .append('\n');
        }
        return out.toString();
    }

    /** A record of the daemon's log (core's LogLines): date, time, level, logger, then the message. */
    private static final Pattern LOG_RECORD = Pattern.compile("\\S+ \\S+ [A-Z]+ \\S+: (.*)");

    /** The daemon's first 12 decisions and scrubs, from its log. */
    private static String decisions(Path log) throws Exception {
        String text = Files.exists(log) ? Files.readString(log) : "";
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher record = LOG_RECORD.matcher(line);
            if (record.matches()
                    && (record.group(1).startsWith("adaptive: ")
                            || record.group(1).contains("scrub of"))) {
                lines.add(record.group(1).strip());
            }
        }
        return String.join("\n", lines.subList(0, Math.min(lines.size(), 12)));
    }
}
