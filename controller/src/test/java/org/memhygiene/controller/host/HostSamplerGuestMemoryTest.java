package org.memhygiene.controller.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.controller.guestmemory.GuestMemoryMethod;
import org.memhygiene.controller.guestmemory.GuestRamChild;
import org.memhygiene.controller.guestmemory.PassBudget;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.procmem.ZeroPageOnRead;

/**
 * The sampler measuring guest RAM through the daemon's own host: libvirt's test driver lists the domains,
 * and real processes of this machine stand in for their QEMU (guest_ram_child.c, with QEMU's
 * {@code -name guest=NAME} on its command line, a pid file in a directory of the test's: how
 * {@code guest_memory.qemu_pid_dir} points the locator at them).
 */
class HostSamplerGuestMemoryTest {
    private static final long PAGE = LinuxMemory.pageSizeBytes();
    /** The domains' memory: 1 GiB, as TestDriverHost writes them. */
    private static final long RAM_PAGES = (1024L << 20) / PAGE;

    @TempDir
    Path dir;

    private final List<GuestRamChild> children = new ArrayList<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() throws Exception {
        for (GuestRamChild child : children) {
            child.close();
        }
        scheduler.shutdownNow();
    }

    /** A "QEMU" for domain {@code name}: a child with a fenced guest RAM mapping of the domain's size, and its pid file. */
    private GuestRamChild qemu(String name) throws Exception {
        GuestRamChild child = GuestRamChild.start("-name", "guest=" + name + ",debug-threads=on");
        children.add(child);
        child.map(RAM_PAGES, false);
        Files.writeString(
                Files.createDirectories(dir.resolve("pids")).resolve(name + ".pid"), Integer.toString(child.pid()));
        return child;
    }

    private LinuxHost host(String uri, PassBudget budget) {
        return new LinuxHost(
                uri,
                Duration.ofMillis(700),
                Duration.ZERO,
                KsmSysfs.DEFAULT_ROOT,
                Path.of("/proc"),
                Path.of("/sys"),
                Clock.systemUTC(),
                new GuestMemorySettings(Optional.of(GuestMemoryMethod.AUTO), budget, Optional.of(dir.resolve("pids"))));
    }

    private static Map<String, VmSnapshot> rows(HostSnapshot sample) {
        return sample.vms().stream().collect(Collectors.toMap(vm -> vm.domain().name(), Function.identity()));
    }

    @Test
    void eachRunningVmGetsItsGuestMemoryFromItsQemuProcessAndSaysHowItWasMeasured() throws Exception {
        GuestRamChild web = qemu("web");
        web.unique(0, 0, 1000, 1);
        web.read(0, 1000, 3000); // zero-mapped: reclaimed; resident where a read fault maps no zero page
        String uri = new TestDriverHost()
                .domain("web", true, Optional.empty(), false)
                .domain("noprocess", true, Optional.empty(), false)
                .domain("off", false, Optional.empty(), false)
                .write(dir.resolve("host.xml"));
        long zero = ZeroPageOnRead.mapsZeroPage() ? 3000 : 0;
        try (LinuxHost host = host(uri, PassBudget.wholePass())) {
            Map<String, VmSnapshot> rows = rows(host.snapshot());
            GuestMemory measured = rows.get("web").guestMemory().orElseThrow(() -> new AssertionError(rows.get("web")));
            assertEquals(web.pid(), measured.pid());
            assertEquals(RAM_PAGES, measured.guestRamPages(), "the mapping of the domain's 1 GiB");
            assertTrue(
                    measured.method().pageStates() && measured.reason().isEmpty()
                            || measured.method() == GuestMemory.Method.PAGEMAP_SCAN,
                    measured.methodDescription());
            assertEquals(zero * PAGE, rows.get("web").reclaimedBytes().getAsLong(), measured.toString());
            assertEquals(4000 - zero, measured.pages().resident().getAsLong(), measured.toString());
            assertEquals(RAM_PAGES - 4000, measured.pages().notPresent().getAsLong());
            assertTrue(rows.get("noprocess").guestMemory().isEmpty(), "no QEMU process for it on this machine");
            assertTrue(rows.get("off").guestMemory().isEmpty(), "not running");

            web.dontNeed(0, 0, 500);
            GuestMemory next = rows(host.snapshot()).get("web").guestMemory().orElseThrow();
            assertEquals(
                    zero + 500, next.reclaimedPages().getAsLong(), "500 given back since the pass before: " + next);
        }
    }

    @Test
    void aQemuProcessThatExitsDuringThePassDegradesItsVmsFigureWithTheReasonAndNoSampleFails() throws Exception {
        GuestRamChild web = qemu("web");
        web.unique(0, 0, 2000, 1);
        String uri = new TestDriverHost()
                .domain("web", true, Optional.empty(), false)
                .write(dir.resolve("host.xml"));
        // 20,000 pages a sample: the pass over 262,144 takes 14 samples, so the process can exit in the middle.
        try (LinuxHost host = host(uri, new PassBudget(20_000, Duration.ofSeconds(30)))) {
            HostSnapshot first = host.snapshot();
            assertTrue(rows(first).get("web").guestMemory().isEmpty(), "the first pass is under way");
            int pid = web.pid();
            web.close();
            children.remove(web);
            HostSnapshot after = host.snapshot();
            GuestMemory measured =
                    rows(after).get("web").guestMemory().orElseThrow(() -> new AssertionError(rows(after)));
            assertEquals(GuestMemory.Method.NONE, measured.method());
            assertEquals("none (fallback: process " + pid + " exited during the pass)", measured.methodDescription());
            assertTrue(after.sourcesDown().isEmpty(), "the sample's sources all worked: " + after.sources());
            assertTrue(rows(after).get("web").reclaimedBytes().isEmpty(), "not known, not 0");
            HostSnapshot later = host.snapshot();
            assertEquals(1, later.vms().size(), "the VM keeps its row");
        }
    }

    @Test
    void aVmWhoseAgentScrubbedOrThatWasAskedToScrubIsMeasuredBeforeTheOthers() throws Exception {
        Path socket = dir.resolve("a.sock");
        ServerSocketChannel agent = TestAgent.serve(UnixDomainSocketAddress.of(socket), 1000, "test-agent", scheduler);
        try {
            for (String vm : List.of("a", "b", "c")) {
                qemu(vm).read(0, 0, 100);
            }
            String uri = new TestDriverHost()
                    .domain("a", true, Optional.of(socket), false)
                    .domain("b", true, Optional.empty(), false)
                    .domain("c", true, Optional.empty(), false)
                    .write(dir.resolve("host.xml"));
            // One VM's pass a sample (the page budget), and none measured again unless asked.
            PassBudget oneVmAndNoRefresh = new PassBudget(RAM_PAGES, Duration.ofSeconds(30), Duration.ofHours(1));
            try (LinuxHost host = host(uri, oneVmAndNoRefresh)) {
                Map<String, Instant> measuredAt = Map.of();
                for (int i = 0; i < 3; i++) {
                    measuredAt = measuredAt(host.snapshot());
                }
                assertEquals(3, measuredAt.size(), "each VM measured once, one a sample: " + measuredAt);
                assertEquals(measuredAt, measuredAt(host.snapshot()), "nothing measured again unasked");

                // A scrub through the host (as the API, the CLI and the policy ask for one).
                host.scrub("a", 1L << 20, Duration.ofSeconds(30));
                Map<String, Instant> afterAsked = measuredAt(host.snapshot());
                assertTrue(afterAsked.get("a").isAfter(measuredAt.get("a")), "a first: " + afterAsked);
                assertEquals(measuredAt.get("b"), afterAsked.get("b"));
                assertEquals(measuredAt.get("c"), afterAsked.get("c"));

                // A scrub the agent did on its own (its counters moved), seen by the next sample's stats.
                for (int i = 0; i < 4; i++) {
                    afterAsked = measuredAt(host.snapshot()); // a's follow-up passes end: its figure stopped moving
                }
                try (AgentLinks other = new AgentLinks(Duration.ofSeconds(30), Duration.ZERO, 1, Clock.systemUTC())) {
                    other.link("other", socket).scrub(1L << 20, Duration.ofSeconds(30));
                }
                Map<String, Instant> seen = measuredAt(host.snapshot()); // the counters moved: a is asked for
                Map<String, Instant> remeasured = measuredAt(host.snapshot());
                assertTrue(
                        remeasured.get("a").isAfter(afterAsked.get("a")),
                        "a again after its agent scrubbed: " + remeasured);
                assertEquals(measuredAt.get("b"), remeasured.get("b"), "b still not measured again");
                assertFalse(seen.isEmpty());
            }
        } finally {
            agent.close();
        }
    }

    private static Map<String, Instant> measuredAt(HostSnapshot sample) {
        Map<String, Instant> at = new TreeMap<>();
        sample.vms()
                .forEach(
                        vm -> vm.guestMemory().ifPresent(m -> at.put(vm.domain().name(), m.measuredAt())));
        return at;
    }
}
