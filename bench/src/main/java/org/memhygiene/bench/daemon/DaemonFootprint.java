package org.memhygiene.bench.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.guestmemory.GuestRamChild;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;

/**
 * The daemon as an admin runs it: `bin/memhygiene run` in its own process (the launcher's JVM flags),
 * sampling every second a test-driver host with DOMAINS domains of GUEST_MIB each, whose agents (the real
 * agent server code) answer on unix sockets in this harness's process, and whose QEMU processes are real
 * processes of this machine (guest_ram_child.c with QEMU's {@code -name guest=vmN}, one private mapping of
 * the domain's memory: 32 MiB written, three quarters read (mapped to the zero page, as a scrubbed guest's
 * free memory is once KSM merged it), the rest never touched), found through a pid directory of the
 * harness's ({@code guest_memory.qemu_pid_dir}). Measures, after a warm-up, the daemon's CPU (utime+stime
 * from /proc/PID/stat over the window, as percent of one core) and VmRSS, in one run, for:
 * <ol>
 * <li>no domains (the reference of the daemon's own idle cost);</li>
 * <li>the domains, guest memory off ({@code guest_memory.method: off});</li>
 * <li>the domains, guest memory by smaps_rollup alone (the reference the pass is measured against);</li>
 * <li>the domains, the pass as memhygiene.service runs it: root with the unit's capability bounding set,
 *     CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE (util-linux setpriv), so PAGEMAP_SCAN without page frames;</li>
 * <li>the domains, the pass as root (page frames readable: PAGEMAP_SCAN with kpageflags).</li>
 * </ol>
 * For the pass the harness also reports how many VMs had a figure and how old the figures were, and for
 * the unit's daemon the latency of GET /api/v1/snapshot, /api/v1/posture and the reference /api/v1/status.
 *
 * <pre>DaemonFootprint LAUNCHER [DOMAINS [WINDOW_SECONDS [GUEST_MIB [SETUPS]]]]</pre>
 * SETUPS: the numbers of the setups with domains to run, e.g. {@code 1,3} (default: all four).
 */
public final class DaemonFootprint {
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    /** Seconds each daemon runs before its window (system property footprint.warmupSeconds). */
    private static final int WARMUP_SECONDS = Integer.getInteger("footprint.warmupSeconds", 45);

    private DaemonFootprint() {}

    record Figures(
            double cpuPercentOfOneCore,
            double rssMib,
            String guestMemory,
            double snapshotMedianMillis,
            double statusMedianMillis,
            double postureMedianMillis,
            String posture) {}

    /** One daemon to measure: its guest_memory.method, and whether it runs with the unit's capabilities only. */
    record Setup(String label, String method, boolean unitCapabilities, boolean latency) {}

    public static void main(String[] args) throws Exception {
        String launcher = args[0];
        int domains = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int windowSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        long guestMib = args.length > 3 ? Long.parseLong(args[3]) : 4096;
        Path dir = Files.createTempDirectory("daemon-footprint");
        Path pids = Files.createDirectories(dir.resolve("pids"));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        List<ServerSocketChannel> agents = new ArrayList<>();
        List<GuestRamChild> qemus = new ArrayList<>();
        try {
            TestDriverHost loaded = new TestDriverHost();
            long pages = (guestMib << 20) / PAGE;
            for (int i = 0; i < domains; i++) {
                Path socket = dir.resolve("vm" + i + ".sock");
                agents.add(TestAgent.serve(UnixDomainSocketAddress.of(socket), 1000, "bench", scheduler));
                loaded.domain("vm" + i, true, Optional.of(socket), false, guestMib);
                GuestRamChild qemu = GuestRamChild.start("-name", "guest=vm" + i + ",debug-threads=on");
                qemus.add(qemu);
                qemu.map(pages, false);
                long written = Math.min(pages, (32L << 20) / PAGE);
                qemu.unique(0, 0, written, i);
                qemu.read(0, written, Math.max(0, pages * 3 / 4 - written));
                Files.writeString(pids.resolve("vm" + i + ".pid"), Long.toString(qemu.pid()));
            }
            String empty = new TestDriverHost().write(dir.resolve("empty.xml"));
            String full = loaded.write(dir.resolve("loaded.xml"));
            System.out.printf(
                    Locale.ROOT,
                    "%d domains of %d MiB, each a real process: 32 MiB written, %d MiB zero-mapped%n",
                    domains,
                    guestMib,
                    Math.max(0, guestMib * 3 / 4 - 32));
            Figures reference = measure(
                    launcher, empty, dir, pids, 9540, windowSeconds, new Setup("no domains", "off", false, false));
            System.out.printf(
                    Locale.ROOT,
                    "reference (0 domains): CPU %.2f%% of one core, VmRSS %.1f MiB%n",
                    reference.cpuPercentOfOneCore(),
                    reference.rssMib());
            List<Setup> setups = new ArrayList<>(List.of(
                    new Setup("guest memory off", "off", false, false),
                    new Setup("smaps_rollup alone (reference)", "smaps_rollup", false, false),
                    new Setup("the pass, memhygiene.service's capabilities", "auto", true, true),
                    new Setup("the pass, root", "auto", false, false)));
            if (args.length > 4) {
                // Only some of them (while profiling one): their numbers, e.g. "1" for guest memory off.
                List<String> keep = List.of(args[4].split(","));
                for (int i = setups.size() - 1; i >= 0; i--) {
                    if (!keep.contains(Integer.toString(i + 1))) {
                        setups.remove(i);
                    }
                }
            }
            int port = 9541;
            Figures off = null;
            for (Setup setup : setups) {
                Figures f = measure(launcher, full, dir, pids, port++, windowSeconds, setup);
                off = off == null ? f : off;
                System.out.printf(
                        Locale.ROOT,
                        "%d domains, %s: CPU %.2f%% of one core (%.2fx guest memory off), VmRSS %.1f MiB%s%n",
                        domains,
                        setup.label(),
                        f.cpuPercentOfOneCore(),
                        f.cpuPercentOfOneCore() / off.cpuPercentOfOneCore(),
                        f.rssMib(),
                        f.guestMemory().isEmpty() ? "" : "; " + f.guestMemory());
                if (setup.latency()) {
                    System.out.printf(
                            Locale.ROOT,
                            "  GET /api/v1/snapshot median %.2f ms; reference GET /api/v1/status median %.2f ms (%.2fx)%n",
                            f.snapshotMedianMillis(),
                            f.statusMedianMillis(),
                            f.snapshotMedianMillis() / f.statusMedianMillis());
                    System.out.printf(
                            Locale.ROOT,
                            "  GET /api/v1/posture median %.2f ms (%.2fx the status call); %s%n",
                            f.postureMedianMillis(),
                            f.postureMedianMillis() / f.statusMedianMillis(),
                            f.posture());
                }
            }
        } finally {
            for (ServerSocketChannel agent : agents) {
                agent.close();
            }
            for (GuestRamChild qemu : qemus) {
                qemu.close();
            }
            scheduler.shutdownNow();
        }
    }

    private static Figures measure(
            String launcher, String uri, Path dir, Path pids, int port, int windowSeconds, Setup setup)
            throws Exception {
        Path config = Files.writeString(
                dir.resolve("daemon-" + port + ".yaml"),
                "libvirt_uri: \"" + uri
                        + "\"\ninterval: 1s\ndry_run: true\napi:\n  port: " + port + "\nhistory:\n  path: "
                        + dir.resolve("history-" + port)
                        + "\nguest_memory:\n  method: " + setup.method() + "\n  qemu_pid_dir: " + pids + "\n");
        List<String> command = new ArrayList<>();
        if (setup.unitCapabilities()) {
            // memhygiene.service's CapabilityBoundingSet=: root keeps only these two (an exec'd root process gets its
            // bounding set).
            command.addAll(List.of("setpriv", "--bounding-set=-all,+dac_read_search,+sys_ptrace", "--"));
        }
        command.addAll(List.of(launcher, "run", "--config", config.toString()));
        Process daemon = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("daemon-" + port + ".log").toFile())
                .start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI base = URI.create("http://127.0.0.1:" + port);
            awaitApi(http, base, daemon);
            // Warm-up: first connections, posture asked on connect, and the JIT (C1 compiles for minutes at 1 Hz).
            Thread.sleep(WARMUP_SECONDS * 1000L);
            long cpuBefore = cpuMillis(daemon.pid());
            Map<String, Long> threadsBefore = threadTicks(daemon.pid());
            long start = System.nanoTime();
            Thread.sleep(windowSeconds * 1000L);
            double elapsedMillis = (System.nanoTime() - start) / 1e6;
            double cpu = 100.0 * (cpuMillis(daemon.pid()) - cpuBefore) / elapsedMillis;
            System.out.println("  " + setup.label() + ", by thread: "
                    + byThread(threadsBefore, threadTicks(daemon.pid()), elapsedMillis));
            double rss = statusKib(daemon.pid(), "VmRSS") / 1024.0;
            String guestMemory = guestMemory(http, base);
            if (!setup.latency()) {
                return new Figures(cpu, rss, guestMemory, 0, 0, 0, "");
            }
            double snapshot = medianMillis(http, base.resolve("/api/v1/snapshot"), 500);
            double status = medianMillis(http, base.resolve("/api/v1/status"), 500);
            double posture = medianMillis(http, base.resolve("/api/v1/posture"), 500);
            // Posture is scored on every sample; show that it covered every domain.
            JsonNode doc = Json.mapper()
                    .readTree(http.send(
                                    HttpRequest.newBuilder(base.resolve("/api/v1/posture"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
            return new Figures(
                    cpu,
                    rss,
                    guestMemory,
                    snapshot,
                    status,
                    posture,
                    "posture of the host " + doc.at("/host/score").asInt() + ", of "
                            + doc.get("vms").size() + " VMs scored");
        } finally {
            daemon.destroy();
            daemon.waitFor();
        }
    }

    /** "50 of 50 VMs measured by pagemap_scan, figures 12 s old (median), 40 s at most", from GET /api/v1/vms. */
    private static String guestMemory(HttpClient http, URI base) throws Exception {
        JsonNode vms = Json.mapper()
                .readTree(http.send(
                                HttpRequest.newBuilder(base.resolve("/api/v1/vms"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body());
        Instant at = Instant.parse(vms.get("sampled_at").asText());
        List<Long> ages = new ArrayList<>();
        Set<String> methods = new TreeSet<>();
        for (JsonNode vm : vms.get("vms")) {
            JsonNode g = vm.get("guest_memory");
            if (g != null && g.isObject()) {
                ages.add(Duration.between(Instant.parse(g.get("measured_at").asText()), at)
                        .toSeconds());
                methods.add(g.get("method_label").asText());
            }
        }
        if (ages.isEmpty()) {
            return "";
        }
        ages.sort(null);
        return ages.size() + " of " + vms.get("vms").size() + " VMs measured by " + String.join(", ", methods)
                + ", figures " + ages.get(ages.size() / 2) + " s old (median), " + ages.get(ages.size() - 1)
                + " s at most";
    }

    private static void awaitApi(HttpClient http, URI base, Process daemon) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (!daemon.isAlive()) {
                throw new IllegalStateException(
                        "the daemon exited with " + daemon.exitValue() + " before its API answered at " + base);
            }
            try {
                if (http.send(
                                        HttpRequest.newBuilder(base.resolve("/api/v1/status"))
                                                .build(),
                                        HttpResponse.BodyHandlers.discarding())
                                .statusCode()
                        == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the daemon's API never answered at " + base);
    }

    private static double medianMillis(HttpClient http, URI uri, int requests) throws Exception {
        double[] millis = new double[requests];
        HttpRequest request =
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build();
        for (int i = 0; i < 50; i++) {
            http.send(request, HttpResponse.BodyHandlers.ofString()); // warm-up
        }
        for (int i = 0; i < requests; i++) {
            long start = System.nanoTime();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            millis[i] = (System.nanoTime() - start) / 1e6;
            if (response.statusCode() != 200) {
                throw new IllegalStateException(uri + " answered " + response.statusCode());
            }
        }
        Arrays.sort(millis);
        return millis[requests / 2];
    }

    /** Each thread's utime + stime in clock ticks, summed by thread name (/proc/PID/task/TID/comm: the first 15 characters). */
    private static Map<String, Long> threadTicks(long pid) throws IOException {
        Map<String, Long> ticks = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    String name = Files.readString(task.resolve("comm")).strip().replaceAll("[0-9]+$", "N");
                    ticks.merge(name, Long.parseLong(fields[11]) + Long.parseLong(fields[12]), Long::sum);
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return ticks;
    }

    /** "snapshot-loop 0.52%, C1 CompilerThre 0.10%, ...": the threads that used CPU in the window, most first. */
    private static String byThread(Map<String, Long> before, Map<String, Long> after, double elapsedMillis) {
        long tick = 1000 / LinuxThread.clockTicksPerSecond();
        return after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(e -> String.format(
                        Locale.ROOT, "%s %.2f%%", e.getKey(), 100.0 * e.getValue() * tick / elapsedMillis))
                .collect(Collectors.joining(", "));
    }

    /** utime + stime of the process and all its threads, in milliseconds. */
    private static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return ticks * 1000 / LinuxThread.clockTicksPerSecond();
    }

    private static long statusKib(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(
                        line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IOException("no " + field + " in /proc/" + pid + "/status");
    }
}
