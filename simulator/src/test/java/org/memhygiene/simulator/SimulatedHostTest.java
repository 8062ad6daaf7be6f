package org.memhygiene.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.HostNotAvailableException;
import org.memhygiene.core.host.HostRefusedException;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.posture.GuestFindings;
import org.memhygiene.core.posture.SwapDevice;
import org.memhygiene.core.protocol.AgentProtocol;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.simulator.scenario.ScenarioParser;

/** The built-in demo host as the controller sees it through HostBackend. */
class SimulatedHostTest {
    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void demoHasSixPlusGuestsInEveryModeAndPosture() {
        try (SimulatedHost host = SimulatedHost.builtin()) {
            HostSnapshot s = host.snapshot();
            assertTrue(s.vms().size() >= 6, "guests: " + s.vms().size());
            Map<PostureLevel, Long> postures = s.vms().stream()
                    .collect(Collectors.groupingBy(
                            v -> v.config().orElseThrow().posture().orElseThrow(), Collectors.counting()));
            assertEquals(3, postures.size(), "dense, balanced and sensitive: " + postures);
            assertTrue(s.vms().stream()
                    .anyMatch(v -> v.config().orElseThrow().memoryBacking().noSharePages()));
            assertTrue(s.vms().stream()
                    .anyMatch(v ->
                            v.config().orElseThrow().balloon().orElseThrow().freePageReporting()));
            assertTrue(
                    s.vms().stream()
                            .anyMatch(v ->
                                    v.agent().posture().stream().anyMatch(f -> f.id().equals("guest.init_on_free.on"))),
                    "one guest runs init_on_free");
            assertTrue(s.vms().stream().anyMatch(v -> v.agent().status() == AgentStatus.NO_CHANNEL));
        }
    }

    @Test
    void eachRunningGuestsMemoryComesFromTheModelPageByPageAndAgreesWithItsExposure() {
        ManualClock clock = new ManualClock();
        try (SimulatedHost host = SimulatedHost.builtin(clock, 60)) {
            clock.now = clock.now.plusSeconds(20);
            HostSnapshot s = host.snapshot();
            Exposure exposure = host.exposure();
            long sharing = 0;
            long zeroTotal = 0;
            for (VmSnapshot vm : s.vms()) {
                if (vm.guestMemory().isEmpty()) {
                    assertFalse(
                            vm.domain().state().hasQemuProcess(), vm.domain().name() + " runs but has no guest memory");
                    continue;
                }
                GuestMemory m = vm.guestMemory().get();
                assertEquals(GuestMemory.Method.SIMULATOR, m.method());
                assertEquals("simulator (model)", m.methodDescription());
                GuestMemory.Pages p = m.pages();
                assertEquals(vm.domain().maxMemoryBytes() / s.pageSizeBytes(), m.guestRamPages());
                assertEquals(
                        m.guestRamPages(),
                        p.resident().getAsLong()
                                + p.ksm().getAsLong()
                                + p.zero().getAsLong()
                                + p.hugeZero().getAsLong()
                                + p.swapped().getAsLong()
                                + p.notPresent().getAsLong(),
                        "states add up: " + m);
                Exposure.VmReclaim reclaim = exposure.vms().stream()
                        .filter(r -> r.name().equals(vm.domain().name()))
                        .findFirst()
                        .orElseThrow();
                assertEquals(
                        reclaim.zeroPageBytes() + reclaim.freePageReportingBytes(),
                        vm.reclaimedBytes().getAsLong(),
                        vm.domain().name() + ": zero-mapped + given back = the model's zero pages + reported pages");
                assertEquals(
                        reclaim.sharingBytes(), p.ksmSaved().getAsLong() * s.pageSizeBytes(), 1.0 * s.pageSizeBytes());
                sharing += p.ksmSaved().getAsLong();
                zeroTotal += p.zero().getAsLong();
            }
            KsmStats ksm = s.ksm().orElseThrow().stats();
            assertEquals(ksm.ksmZeroPages().getAsLong(), zeroTotal, "the model's zero pages are KSM's");
            assertTrue(zeroTotal > 0 && sharing > 0, "20 simulated minutes merge something");
        }
    }

    @Test
    void snapshotsAdvanceSimulatedTimeByRealTimeTimesSpeed() {
        ManualClock clock = new ManualClock();
        try (SimulatedHost host = SimulatedHost.builtin(clock, 60)) {
            HostSnapshot first = host.snapshot();
            clock.now = clock.now.plusSeconds(10);
            HostSnapshot second = host.snapshot();
            assertEquals(Duration.ofMinutes(10), Duration.between(first.sampledAt(), second.sampledAt()));
            KsmStats ksm = second.ksm().orElseThrow().stats();
            assertTrue(ksm.fullScans().getAsLong() >= 1, "ten simulated minutes scan the demo at least once: " + ksm);
            assertTrue(ksm.ksmZeroPages().getAsLong() > 0 && ksm.pagesSharing().getAsLong() > 0, ksm.toString());
            VmSnapshot vault = second.vms().stream()
                    .filter(v -> v.domain().name().equals("vault"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(0, vault.ksm().orElseThrow().stat().savedPages(), "nosharepages: KSM never sees the vault");
            Exposure e = host.exposure();
            assertTrue(e.crossVmMergedNonZeroPages() > 0 && e.reclaimedBytes() > 0, e.toString());
        }
    }

    @Test
    void applyKsmChangesTheSimulatedKnobsAndRefusesEbusyChanges() {
        try (SimulatedHost host = SimulatedHost.builtin(new ManualClock(), 1)) {
            host.advance(Duration.ofMinutes(5));
            var changes = host.applyKsm(KsmSettings.parse(List.of("pages_to_scan=5000")));
            assertEquals("5000", changes.get(0).after());
            assertEquals(
                    5000,
                    host.snapshot().ksm().orElseThrow().stats().pagesToScan().getAsLong());
            HostRefusedException busy = assertThrows(
                    HostRefusedException.class,
                    () -> host.applyKsm(KsmSettings.parse(List.of("merge_across_nodes=0"))));
            assertTrue(busy.getMessage().contains("run=2"), busy.getMessage());
            host.applyKsm(KsmSettings.parse(List.of("run=2", "merge_across_nodes=0")));
            KsmStats after = host.snapshot().ksm().orElseThrow().stats();
            assertEquals(0, after.pagesShared().getAsLong());
            assertEquals(0, after.ksmZeroPages().getAsLong());
            assertEquals(0, after.mergeAcrossNodes().getAsLong());
        }
    }

    @Test
    void scrubZeroesStaleFreeMemoryOfAnAgentGuestAndRefusesGuestsWithoutAgent() {
        try (SimulatedHost host = SimulatedHost.builtin(new ManualClock(), 1)) {
            host.advance(Duration.ofSeconds(30));
            HostSnapshot s = host.snapshot();
            String web = uuid(s, "web-1");
            long staleBefore = host.exposure().staleSecretPages();
            ScrubReport r = host.scrub(web, Long.MAX_VALUE, Duration.ofSeconds(5));
            assertEquals(ScrubReport.Outcome.COMPLETED, r.outcome());
            assertTrue(r.bytesZeroed() > 0);
            assertTrue(host.exposure().staleSecretPages() < staleBefore, "the scrub wiped stale secrets");
            assertThrows(
                    HostNotAvailableException.class,
                    () -> host.scrub(uuid(s, "batch"), 1 << 20, Duration.ofSeconds(1)));
            assertEquals(
                    ScrubReport.Outcome.SKIPPED_INIT_ON_FREE,
                    host.scrub(uuid(s, "db"), 1 << 20, Duration.ofSeconds(1)).outcome());
            assertFalse(host.describe().isBlank());
        }
    }

    @Test
    void whatTheHostAndItsGuestsReportComesFromTheScenario() {
        var scenario = ScenarioParser.parse("""
                name: said
                host: {memory_pressure: 12.5, swap: 1GiB, swap_kind: zram}
                guests:
                  - {name: a, memory: 64MiB, boot: 0s, kernel: 6.12.9, numa_node: 1, hygiene: {mode: agent_scrub}}
                """, "said.yaml");
        try (SimulatedHost host = SimulatedHost.of(scenario, new ManualClock(), 1)) {
            host.advance(Duration.ofSeconds(1));
            HostSnapshot s = host.snapshot();
            var memory = s.memory().orElseThrow();
            assertEquals(12.5, memory.pressureSomeAvg10Percent().orElseThrow());
            assertEquals(1L << 30, memory.swapTotalBytes());
            VmSnapshot a = s.vms().get(0);
            assertEquals(AgentProtocol.VERSION, a.agent().hello().orElseThrow().protocolVersion());
            assertEquals(AgentProtocol.VERSION, host.ping("a").protocolVersion());
            assertTrue(
                    a.agent()
                            .posture()
                            .contains(GuestFindings.kernelVersion(
                                    "6.12.9", "simulated /proc/sys/kernel/osrelease: 6.12.9 (image default)")),
                    a.agent().posture().toString());
            HostFacts facts = host.facts().orElseThrow();
            assertEquals(
                    SwapDevice.Kind.ZRAM, facts.swaps().orElseThrow().get(0).kind());
            assertEquals(2, facts.numaNodes().orElseThrow(), "nodes 0 and 1");
        }
    }

    static String uuid(HostSnapshot s, String name) {
        return s.vms().stream()
                .filter(v -> v.domain().name().equals(name))
                .findFirst()
                .orElseThrow()
                .domain()
                .uuid();
    }

    @Test
    void aHostTooLargeForTheHeapIsRefusedBeforeAnythingIsAllocated() {
        // Guests of 4 GiB, as many as it takes for their page arrays to pass this JVM's heap.
        long pageSize = LinuxMemory.pageSizeBytes();
        long pagesPerGuest = (4L << 30) / pageSize;
        long guests = Runtime.getRuntime().maxMemory() / (pagesPerGuest * 10) + 1;
        Assumptions.assumeTrue(
                guests <= 4096 && guests * pagesPerGuest < Integer.MAX_VALUE - 16,
                "this JVM's heap is too large to build such a scenario: "
                        + (Runtime.getRuntime().maxMemory() >> 20) + " MiB");
        var scenario = ScenarioParser.parse(
                "name: big\nguests: [{name: g, count: " + guests + ", memory: 4GiB}]\n", "big.yaml");
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> SimulatedHost.of(scenario, Clock.systemUTC(), 1));
        assertTrue(
                e.getMessage().contains("give it -Xmx") && e.getMessage().contains("sizes the heap from the scenario"),
                e.getMessage());
        assertTrue(e.getMessage().contains(String.format("%,d pages", guests * pagesPerGuest)), e.getMessage());
    }

    @Test
    void reclaimedSharingBytesAddUpToTheHostsPagesSharing() {
        // Three VMs map one KSM page: 2 pages saved, 2/3 of a page each; rounding per VM would say 3.
        Scenario s = ScenarioParser.parse("""
                name: thirds
                ksm: {pages_to_scan: 1000, sleep_millisecs: 10}
                guests:
                  - {name: g, count: 3, memory: 256KiB, boot: 0s, sharing: {os_image: 1},
                     layout: {os_image: 0.015625, page_cache: 0, anon: 0, zero: 0, secret: 0}, free_memory: {stale: 0, zero: 0}}
                """.replace("256KiB", 64 * LinuxMemory.pageSizeBytes() + ""), "test");
        try (SimulatedHost host = SimulatedHost.of(s, Clock.systemUTC(), 1)) {
            host.advance(Duration.ofSeconds(5));
            KsmStats k = host.simulation().ksmStats();
            assertEquals(1, k.pagesShared().getAsLong());
            assertEquals(2, k.pagesSharing().getAsLong());
            Exposure e = host.exposure();
            long page = host.simulation().pageSizeBytes();
            assertEquals(
                    2 * page,
                    e.vms().stream().mapToLong(Exposure.VmReclaim::sharingBytes).sum(),
                    e.toString());
            assertEquals(2 * page, e.reclaimedBytes());
            assertEquals(3 * 1 - 2, host.simulation().residentPages(), "one KSM page backs the three guest pages");
        }
    }

    @Test
    void apportioningSplitsWholePagesThatAddUp() {
        assertEquals(
                List.of(1L, 1L, 0L),
                Arrays.stream(SimulatedHost.apportion(2, new long[] {1, 1, 1}))
                        .boxed()
                        .toList());
        assertEquals(
                List.of(7L, 0L, 3L),
                Arrays.stream(SimulatedHost.apportion(10, new long[] {7, 0, 3}))
                        .boxed()
                        .toList());
        assertEquals(
                List.of(0L, 0L),
                Arrays.stream(SimulatedHost.apportion(5, new long[] {0, 0}))
                        .boxed()
                        .toList());
    }
}
