package org.memhygiene.agent.canary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.AgentJvm;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmHostLock;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.probe.RankTest;

/**
 * The guest's view of deduplication, proven on this host's real KSM before any controller exists: three
 * real agents, each in its own JVM with the agent's production flags (MergeAnyAgent: no JIT, like
 * bin/memhygiene-agent), plant canaries over their unix sockets, A and B with the same nonce, C with
 * another. ksmd runs the full scans a page needs to merge (three: one to checksum it, one to find its twin,
 * one to spare for a scan already under way). The host's truth is read as the controller will read it
 * (/proc/PID/pagemap and /proc/kpageflags): A's and B's canary pages share KSM frames, nothing else does.
 * Then each agent times its writes: A's and B's canary writes take copy-on-write faults and are slower than
 * their control writes (a one-sided Mann-Whitney rank test, p < 0.001), C's are not.
 *
 * <p>Changes run, pages_to_scan, sleep_millisecs (and advisor_mode, when the advisor runs) and puts them
 * back, also on failure. Run it under flock /tmp/memhygiene-ksm.lock like every real-KSM test.
 */
@ExtendWith(KsmHostLock.class)
class RealKsmCanaryTest {
    private static final int PAGES = 256;
    private static final int FULL_SCANS = 3;
    private static final long SCAN_DEADLINE_MILLIS = 300_000;

    private static final int CANARY = 0;
    private static final int CONTROL = 1;
    /** /proc/kpageflags bit KPF_KSM (Documentation/admin-guide/mm/pagemap.rst). */
    private static final int KPF_KSM = 21;

    @TempDir
    Path dir;

    private record Agent(String name, Process process, SocketChannel socket, BufferedReader in, OutputStream out) {
        JsonNode ask(String command, String arguments) throws IOException {
            out.write(("{\"protocol\":1,\"id\":1,\"command\":\"" + command + "\",\"arguments\":" + arguments + "}\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            JsonNode reply = Json.mapper().readTree(in.readLine());
            assertTrue(reply.has("result"), name + " " + command + ": " + reply);
            return reply.get("result");
        }
    }

    private Agent start(String name) throws Exception {
        Path socket = dir.resolve(name + ".sock");
        // The agent's JVM as its launcher starts it (no JIT): the write times are the production agent's.
        List<String> command = AgentJvm.command(MergeAnyAgent.class, "--listen", "unix:" + socket);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        builder.environment().remove("MEMHYGIENE_AGENT_CONFIG");
        Process process = builder.start();
        SocketChannel channel = TestAgent.connectWhenListening(socket);
        return new Agent(
                name,
                process,
                channel,
                new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8)),
                Channels.newOutputStream(channel));
    }

    @Test
    void mergedCanaryPagesAreSlowerToWriteThanTheControls() throws Exception {
        Assumptions.assumeTrue(
                Files.isWritable(KsmKnobs.ROOT.resolve("run")),
                "skipped: needs root and a kernel with KSM (" + KsmKnobs.ROOT + "/run not writable)");
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/kpageflags")), "skipped: needs /proc/kpageflags (root)");
        try {
            LinuxMemory.processMemoryMerge();
        } catch (RuntimeException e) {
            Assumptions.abort("skipped: needs prctl(PR_GET_MEMORY_MERGE), Linux 6.4+: " + e.getMessage());
        }
        String shared = HexFormat.of().formatHex(random(32));
        String other = HexFormat.of().formatHex(random(32));
        List<Agent> agents = new ArrayList<>();
        Map<String, String> knobsBefore;
        try (KsmKnobs ksm = new KsmKnobs()) {
            for (String name : List.of("A", "B", "C")) {
                agents.add(start(name));
            }
            for (Agent agent : agents) {
                agent.ask(
                        "canary-plant",
                        "{\"nonce\":\"" + (agent.name().equals("C") ? other : shared) + "\",\"pages\":" + PAGES
                                + ",\"lease_millis\":" + SCAN_DEADLINE_MILLIS * 2 + "}");
            }
            if (!"none".equals(KsmKnobs.current("advisor_mode"))) {
                ksm.set("advisor_mode", "none"); // pages_to_scan is the advisor's while it runs
            }
            ksm.set("pages_to_scan", "5000");
            ksm.set("sleep_millisecs", "10");
            long scansBefore = KsmKnobs.counter("full_scans");
            ksm.set("run", "1");
            awaitFullScans(scansBefore + FULL_SCANS);

            // The host's truth: which canary pages of A, B and C are backed by one KSM frame.
            long[] framesA = frames(agents.get(0), CANARY);
            long[] framesB = frames(agents.get(1), CANARY);
            long[] framesC = frames(agents.get(2), CANARY);
            int mergedAB = 0;
            for (int i = 0; i < PAGES; i++) {
                if (framesA[i] == framesB[i] && isKsm(framesA[i])) {
                    mergedAB++;
                }
            }
            long ksmInC =
                    Arrays.stream(framesC).filter(RealKsmCanaryTest::isKsm).count();
            long ksmControls = 0;
            for (Agent agent : agents) {
                ksmControls += Arrays.stream(frames(agent, CONTROL))
                        .filter(RealKsmCanaryTest::isKsm)
                        .count();
            }
            System.out.printf(
                    Locale.ROOT,
                    "host truth after %d full scans: %d of %d canary pages of A and B share a KSM"
                            + " frame; KSM frames among C's canary pages: %d, among the control pages of A, B and C: %d%n",
                    KsmKnobs.counter("full_scans") - scansBefore,
                    mergedAB,
                    PAGES,
                    ksmInC,
                    ksmControls);
            assertEquals(PAGES, mergedAB, "every canary page of A merged with B's");
            // No twin anywhere, not even a leftover copy on an agent's own Java heap.
            assertEquals(0, ksmInC, "C's canary (another nonce) has no twin to merge with");
            assertEquals(0, ksmControls, "control pages have no twin to merge with");

            ksm.set("run", "0"); // nothing merges back while the agents write
            for (Agent agent : agents) {
                JsonNode timings =
                        agent.ask("canary-time", "{\"nonce\":\"" + (agent.name().equals("C") ? other : shared) + "\"}");
                RankTest test = RankTest.greater(nanos(timings.get("canary")), nanos(timings.get("control")));
                double z = test.z();
                System.out.printf(
                        Locale.ROOT,
                        "agent %s (%s nonce): canary %s%n                     control %s%n"
                                + "                     rank test z = %.2f, p = %.3g (observed when p < %s)%n",
                        agent.name(),
                        agent.name().equals("C") ? "its own" : "the shared",
                        distribution(timings.get("canary")),
                        distribution(timings.get("control")),
                        z,
                        test.pValue(),
                        RankTest.ALPHA);
                if (agent.name().equals("C")) {
                    assertFalse(test.significant(), "C's canary was not merged: no write of it faults; z = " + z);
                } else {
                    assertTrue(
                            test.significant(),
                            agent.name() + "'s merged canary pages take copy-on-write faults; z = " + z);
                    assertTrue(
                            timings.at("/canary/summary/median_nanos").asLong()
                                    > timings.at("/control/summary/median_nanos")
                                            .asLong(),
                            timings.toString());
                }
                agent.ask("canary-release", "{\"nonce\":\"" + (agent.name().equals("C") ? other : shared) + "\"}");
            }
            knobsBefore = ksm.previousValues();
        } finally {
            for (Agent agent : agents) {
                agent.socket().close();
                agent.process().destroy();
                agent.process().waitFor(10, TimeUnit.SECONDS);
            }
        }
        knobsBefore.forEach(
                (knob, value) -> assertEquals(value, KsmKnobs.current(knob), knob + " is back to what it was"));
    }

    private static byte[] random(int bytes) {
        byte[] value = new byte[bytes];
        new SecureRandom().nextBytes(value);
        return value;
    }

    /** Waits on ksmd's own count of full scans, with a deadline for a machine where it does not run. */
    private static void awaitFullScans(long target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SCAN_DEADLINE_MILLIS);
        while (KsmKnobs.counter("full_scans") < target) {
            assertTrue(
                    System.nanoTime() < deadline,
                    "ksmd did not complete " + FULL_SCANS + " full scans within " + SCAN_DEADLINE_MILLIS
                            + " ms (full_scans " + KsmKnobs.counter("full_scans") + ", wanted " + target + ")");
            Thread.sleep(50);
        }
    }

    /**
     * The page frame behind each canary ({@link #CANARY}) or control ({@link #CONTROL}) page of the agent's
     * process: the mapping is the one of exactly 2 × PAGES pages that is locked and not huge-page backed
     * (smaps VmFlags lo, nh); canary page i is its page 2i, control page i its page 2i + 1.
     */
    private static long[] frames(Agent agent, int kind) throws IOException {
        long page = LinuxMemory.pageSizeBytes();
        long pid = agent.process().pid();
        List<String> smaps = Files.readAllLines(Path.of("/proc/" + pid + "/smaps"));
        long start = -1;
        for (int i = 0; i < smaps.size() && start < 0; i++) {
            String line = smaps.get(i);
            if (!line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                continue;
            }
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            long from = Long.parseUnsignedLong(range[0], 16);
            long to = Long.parseUnsignedLong(range[1], 16);
            for (int j = i + 1; j < smaps.size() && !smaps.get(j).matches("^[0-9a-f]+-[0-9a-f]+ .*"); j++) {
                List<String> flags =
                        List.of(smaps.get(j).replace("VmFlags:", "").trim().split("\\s+"));
                if (smaps.get(j).startsWith("VmFlags:")
                        && to - from == 2L * PAGES * page
                        && flags.contains("lo")
                        && flags.contains("nh")) {
                    start = from;
                }
            }
        }
        assertTrue(start >= 0, "no canary mapping in /proc/" + pid + "/smaps");
        long[] frames = new long[PAGES];
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc/" + pid + "/pagemap"), StandardOpenOption.READ)) {
            for (int i = 0; i < PAGES; i++) {
                ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
                pagemap.read(entry, (start / page + 2L * i + kind) * 8);
                long bits = entry.getLong(0);
                assertTrue(
                        bits < 0,
                        "page " + (2 * i + kind) + " of " + agent.name() + "'s canary is present (pagemap bit 63)");
                frames[i] = bits & ((1L << 55) - 1);
            }
        }
        return frames;
    }

    private static boolean isKsm(long frame) {
        try (FileChannel kpageflags = FileChannel.open(Path.of("/proc/kpageflags"), StandardOpenOption.READ)) {
            ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            kpageflags.read(entry, frame * 8);
            return (entry.getLong(0) >>> KPF_KSM & 1) == 1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long[] nanos(JsonNode writes) {
        long[] nanos = new long[writes.get("nanos").size()];
        for (int i = 0; i < nanos.length; i++) {
            nanos[i] = writes.get("nanos").get(i).asLong();
        }
        return nanos;
    }

    private static String distribution(JsonNode writes) {
        long[] sorted = nanos(writes);
        Arrays.sort(sorted);
        StringBuilder deciles = new StringBuilder();
        for (int d = 1; d < 10; d++) {
            deciles.append(d == 1 ? "" : " ").append(sorted[d * sorted.length / 10]);
        }
        JsonNode s = writes.get("summary");
        return String.format(
                Locale.ROOT,
                "min %d median %d p90 %d max %d ns; deciles %s",
                s.get("min_nanos").asLong(),
                s.get("median_nanos").asLong(),
                s.get("p90_nanos").asLong(),
                s.get("max_nanos").asLong(),
                deciles);
    }
}
