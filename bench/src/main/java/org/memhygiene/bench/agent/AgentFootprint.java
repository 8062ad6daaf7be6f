package org.memhygiene.bench.agent;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.memhygiene.core.json.Json;

/**
 * The guest agent's own footprint, as a guest would see it: VmRSS of the real agent process started
 * by bin/memhygiene-agent (its default JVM flags) serving on a unix socket, idle after answering
 * hello/stats/posture, and after 1 GiB scrubs requested over the protocol; then idle once more reading
 * CONFIG, as the installed service reads /etc/memhygiene/agent.yaml. The reference, measured in the same
 * run, is a JVM with the same flags that only sleeps ({@link IdleJvm}): the floor any Java agent starts
 * from.
 *
 * <pre>AgentFootprint LAUNCHER JAVA_FLAGS GIB CONFIG</pre>
 */
public final class AgentFootprint {
    private static final long GIB = 1L << 30;

    private AgentFootprint() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: AgentFootprint LAUNCHER JAVA_FLAGS GIB CONFIG");
            System.exit(2);
        }
        String launcher = args[0];
        List<String> flags = List.of(args[1].trim().split("\\s+"));
        long scrubBytes = Long.parseLong(args[2]) * GIB;
        Path config = Path.of(args[3]);

        List<String> reference = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        reference.addAll(flags);
        reference.addAll(List.of("-cp", System.getProperty("java.class.path"), IdleJvm.class.getName()));
        Process idle = new ProcessBuilder(reference).inheritIO().start();
        Thread.sleep(3000);
        long referenceKib = statusKib(idle.pid(), "VmRSS");
        idle.destroy();

        Path socket = Files.createTempDirectory("agent-footprint").resolve("agent.sock");
        Process agent = new ProcessBuilder(launcher, "--listen", "unix:" + socket)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            awaitSocket(socket);
            try (Peer peer = new Peer(socket)) {
                idle(peer);
                long idleKib = statusKib(agent.pid(), "VmRSS");
                long idleAnonKib = statusKib(agent.pid(), "RssAnon");
                long idleFileKib = statusKib(agent.pid(), "RssFile");
                String scrub = "{\"max_bytes\":" + scrubBytes + ",\"max_rate_bytes_per_second\":" + (64 * GIB) + "}";
                JsonNode first = peer.ask("scrub", scrub);
                long afterFirstKib = statusKib(agent.pid(), "VmRSS");
                long peakKib = statusKib(agent.pid(), "VmHWM");
                JsonNode second = peer.ask("scrub", scrub);
                long afterSecondKib = statusKib(agent.pid(), "VmRSS");
                System.out.printf(
                        Locale.ROOT,
                        "scrubs: %s %s, %s %s%n",
                        first.at("/result/outcome").asText(),
                        first.at("/result/bytes_zeroed").asLong(),
                        second.at("/result/outcome").asText(),
                        second.at("/result/bytes_zeroed").asLong());
                System.out.printf(
                        Locale.ROOT, "reference (idle JVM, same flags): VmRSS %.1f MiB%n", referenceKib / 1024.0);
                System.out.printf(
                        Locale.ROOT,
                        "agent idle: VmRSS %.1f MiB (%.2fx the reference; RssAnon %.1f MiB, RssFile %.1f MiB)%n",
                        idleKib / 1024.0,
                        idleKib / (double) referenceKib,
                        idleAnonKib / 1024.0,
                        idleFileKib / 1024.0);
                System.out.printf(
                        Locale.ROOT,
                        "agent after a %d GiB scrub: VmRSS %.1f MiB (%+.1f MiB), peak %.1f MiB;"
                                + " after a second: %.1f MiB (%+.1f MiB)%n",
                        scrubBytes / GIB,
                        afterFirstKib / 1024.0,
                        (afterFirstKib - idleKib) / 1024.0,
                        peakKib / 1024.0,
                        afterSecondKib / 1024.0,
                        (afterSecondKib - idleKib) / 1024.0);
            }
        } finally {
            agent.destroy();
        }

        Path configured = Files.createTempDirectory("agent-footprint").resolve("agent.sock");
        Process withConfig = new ProcessBuilder(
                        launcher, "--listen", "unix:" + configured, "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            awaitSocket(configured);
            try (Peer peer = new Peer(configured)) {
                idle(peer);
                System.out.printf(
                        Locale.ROOT,
                        "agent idle reading %s: VmRSS %.1f MiB (RssAnon %.1f MiB, RssFile %.1f MiB)%n",
                        config.getFileName(),
                        statusKib(withConfig.pid(), "VmRSS") / 1024.0,
                        statusKib(withConfig.pid(), "RssAnon") / 1024.0,
                        statusKib(withConfig.pid(), "RssFile") / 1024.0);
            }
        } finally {
            withConfig.destroy();
        }
    }

    /** hello, stats and posture three times, then 2 s of rest. */
    private static void idle(Peer peer) throws IOException, InterruptedException {
        for (int i = 0; i < 3; i++) {
            for (String command : List.of("hello", "stats", "posture")) {
                peer.ask(command, "{}");
            }
        }
        Thread.sleep(2000);
    }

    private static void awaitSocket(Path socket) throws InterruptedException {
        for (int i = 0; i < 300 && !Files.exists(socket); i++) {
            Thread.sleep(100);
        }
        if (!Files.exists(socket)) {
            throw new IllegalStateException("the agent never listened on " + socket);
        }
    }

    static long statusKib(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(
                        line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IOException("no " + field + " in /proc/" + pid + "/status");
    }

    private static final class Peer implements AutoCloseable {
        private final SocketChannel channel;
        private final OutputStream out;
        private final BufferedReader in;
        private int nextId;

        Peer(Path socket) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            out = Channels.newOutputStream(channel);
            in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        }

        JsonNode ask(String command, String arguments) throws IOException {
            String line = "{\"protocol\":1,\"id\":" + nextId++ + ",\"command\":\"" + command + "\",\"arguments\":"
                    + arguments + "}\n";
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.flush();
            JsonNode reply = Json.mapper().readTree(in.readLine());
            if (reply.has("error")) {
                throw new IOException(command + ": " + reply.get("error"));
            }
            return reply;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
