package org.memhygiene.bench.daemon;

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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import com.fasterxml.jackson.databind.JsonNode;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.core.json.Json;
import org.memhygiene.controller.host.TestDriverHost;

/**
 * The daemon as an admin runs it: `bin/memhygiene run` in its own process (the launcher's JVM flags),
 * sampling every second a test-driver host with DOMAINS domains whose agents (the real agent server
 * code) answer on unix sockets in this harness's process. Measures, after a warm-up: the daemon's CPU
 * (utime+stime from /proc/PID/stat over the window, as percent of one core), its VmRSS, and the latency
 * of GET /api/v1/snapshot and GET /api/v1/posture (posture is scored on every sample). References in the same run: the same daemon on a host with no domains (CPU,
 * RSS) and GET /api/v1/status on the loaded daemon (latency of the API's cheapest call).
 *
 * <pre>DaemonFootprint LAUNCHER [DOMAINS [WINDOW_SECONDS]]</pre>
 */
public final class DaemonFootprint {
    private DaemonFootprint() {
    }

    record Figures(double cpuPercentOfOneCore, double rssMib, double snapshotMedianMillis, double statusMedianMillis,
            double postureMedianMillis, String posture) {
    }

    public static void main(String[] args) throws Exception {
        String launcher = args[0];
        int domains = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int windowSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        Path dir = Files.createTempDirectory("daemon-footprint");
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        List<ServerSocketChannel> agents = new ArrayList<>();
        try {
            TestDriverHost loaded = new TestDriverHost();
            for (int i = 0; i < domains; i++) {
                Path socket = dir.resolve("vm" + i + ".sock");
                agents.add(TestAgent.serve(UnixDomainSocketAddress.of(socket), 1000, "bench", scheduler));
                loaded.domain("vm" + i, true, Optional.of(socket), false);
            }
            Figures empty = measure(launcher, new TestDriverHost().write(dir.resolve("empty.xml")), dir, 9541, windowSeconds);
            Figures full = measure(launcher, loaded.write(dir.resolve("loaded.xml")), dir, 9542, windowSeconds);
            System.out.printf(Locale.ROOT, "reference (0 domains): CPU %.2f%% of one core, VmRSS %.1f MiB%n",
                    empty.cpuPercentOfOneCore(), empty.rssMib());
            System.out.printf(Locale.ROOT, "%d domains + agents at 1 Hz: CPU %.2f%% of one core, VmRSS %.1f MiB (%.2fx the reference)%n",
                    domains, full.cpuPercentOfOneCore(), full.rssMib(), full.rssMib() / empty.rssMib());
            System.out.printf(Locale.ROOT, "GET /api/v1/snapshot median %.2f ms; reference GET /api/v1/status median %.2f ms (%.2fx)%n",
                    full.snapshotMedianMillis(), full.statusMedianMillis(), full.snapshotMedianMillis() / full.statusMedianMillis());
            System.out.printf(Locale.ROOT, "GET /api/v1/posture median %.2f ms (%.2fx the status call); %s%n",
                    full.postureMedianMillis(), full.postureMedianMillis() / full.statusMedianMillis(), full.posture());
        } finally {
            for (ServerSocketChannel agent : agents) {
                agent.close();
            }
            scheduler.shutdownNow();
        }
    }

    private static Figures measure(String launcher, String uri, Path dir, int port, int windowSeconds) throws Exception {
        Path config = Files.writeString(dir.resolve("daemon-" + port + ".yaml"), "libvirt_uri: \"" + uri
                + "\"\ninterval_millis: 1s\ndry_run: true\napi:\n  port: " + port + "\nhistory:\n  path: " + dir.resolve("history-" + port) + "\n");
        Process daemon = new ProcessBuilder(launcher, "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon-" + port + ".log").toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            URI base = URI.create("http://127.0.0.1:" + port);
            awaitApi(http, base);
            Thread.sleep(15_000); // warm-up: JIT, first connections, posture asked on connect
            long cpuBefore = cpuMillis(daemon.pid());
            long start = System.nanoTime();
            Thread.sleep(windowSeconds * 1000L);
            double cpu = 100.0 * (cpuMillis(daemon.pid()) - cpuBefore) / ((System.nanoTime() - start) / 1e6);
            double rss = statusKib(daemon.pid(), "VmRSS") / 1024.0;
            double snapshot = medianMillis(http, base.resolve("/api/v1/snapshot"), 500);
            double status = medianMillis(http, base.resolve("/api/v1/status"), 500);
            double posture = medianMillis(http, base.resolve("/api/v1/posture"), 500);
            // Posture is scored on every sample; show that it covered every domain.
            String body = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/posture")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            JsonNode doc = Json.mapper().readTree(body);
            return new Figures(cpu, rss, snapshot, status, posture, "posture of the host " + doc.at("/host/score").asInt()
                    + ", of " + doc.get("vms").size() + " VMs scored");
        } finally {
            daemon.destroy();
            daemon.waitFor();
        }
    }

    private static void awaitApi(HttpClient http, URI base) throws Exception {
        for (int i = 0; i < 300; i++) {
            try {
                if (http.send(HttpRequest.newBuilder(base.resolve("/api/v1/status")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
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
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build();
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

    /** utime + stime of the process and all its threads, in milliseconds. */
    private static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return ticks * 1000 / org.memhygiene.core.linux.LinuxThread.clockTicksPerSecond();
    }

    private static long statusKib(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IOException("no " + field + " in /proc/" + pid + "/status");
    }
}
