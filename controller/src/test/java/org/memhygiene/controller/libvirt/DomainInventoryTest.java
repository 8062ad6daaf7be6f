package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.libvirt.Domain;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;

/** Against libvirt's test driver through libvirt-java: what it reports is fixed by the driver and our XML. */
class DomainInventoryTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    /** The test driver's fixed last_update (src/test/test_driver.c, testDomainMemoryStats). */
    private static final long TEST_DRIVER_LAST_UPDATE = 627319920;

    @Test
    void defaultTestHostHasOneRunningDomain() {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            List<DomainSample> samples = new DomainInventory(host, new DomainXmlParser()).sample();
            assertEquals(
                    List.of(new DomainSample(
                            "test",
                            "6695eb01-f6a4-8304-79aa-97f2502e193f",
                            DomainState.RUNNING,
                            2,
                            8192 * MIB,
                            2048 * MIB,
                            testDriverStats(2048 * MIB))),
                    samples);
        }
    }

    @Test
    void customTestHostReportsEachDomain() {
        try (LibvirtHost host = TestHosts.open(TestHosts.FILE)) {
            List<DomainSample> samples = new DomainInventory(host, new DomainXmlParser()).sample();
            assertEquals(
                    List.of(
                            new DomainSample(
                                    "guarded",
                                    "4d0c2c0a-7f2f-4e3c-9d43-000000000001",
                                    DomainState.RUNNING,
                                    2,
                                    2048 * MIB,
                                    1536 * MIB,
                                    testDriverStats(1536 * MIB)),
                            new DomainSample(
                                    "noballoon",
                                    "4d0c2c0a-7f2f-4e3c-9d43-000000000003",
                                    DomainState.PAUSED,
                                    1,
                                    512 * MIB,
                                    512 * MIB,
                                    BalloonStats.NONE),
                            new DomainSample(
                                    "noshare",
                                    "4d0c2c0a-7f2f-4e3c-9d43-000000000002",
                                    DomainState.RUNNING,
                                    1,
                                    1024 * MIB,
                                    1024 * MIB,
                                    testDriverStats(1024 * MIB)),
                            new DomainSample(
                                    "stopped",
                                    "4d0c2c0a-7f2f-4e3c-9d43-000000000004",
                                    DomainState.SHUT_OFF,
                                    4,
                                    4096 * MIB,
                                    4096 * MIB,
                                    BalloonStats.NONE)),
                    samples);
            assertEquals("shut off", samples.get(3).state().label());
        }
    }

    @Test
    void domainGoneBetweenListingAndReadingIsDropped() throws Exception {
        try (LibvirtHost host = TestHosts.open(TestHosts.FILE)) {
            DomainInventory inventory = new DomainInventory(host, new DomainXmlParser());
            Domain transientDomain = host.connection().domainCreateXML("""
                    <domain type='test'><name>ephemeral</name><memory>65536</memory>
                    <os><type>hvm</type></os></domain>""", 0);
            assertTrue(inventory.sample().stream().anyMatch(s -> s.name().equals("ephemeral")));
            // Listed, then destroyed before it is read: a transient domain is gone once destroyed.
            transientDomain.destroy();
            assertEquals(
                    Optional.empty(),
                    inventory.sample(host.domainPointer(transientDomain), new DomainInventory.Buffers()));
            assertEquals(4, inventory.sample().size());
            assertEquals(Optional.empty(), inventory.xml("ephemeral"));
            assertFalse(inventory.enableBalloonStatsPeriod("ephemeral", 5));
        }
    }

    @Test
    void otherErrorsAreNotTakenForAGoneDomain() {
        try (LibvirtHost host = TestHosts.open(TestHosts.FILE)) {
            DomainInventory inventory = new DomainInventory(host, new DomainXmlParser());
            LibvirtAccessException e = assertThrows(
                    LibvirtAccessException.class,
                    () -> inventory.droppedIfGone(
                            () -> host.connection()
                                    .domainLookupByName("stopped")
                                    .memoryStats(4),
                            "read memory stats of stopped"));
            assertTrue(
                    e.getMessage()
                            .startsWith("libvirt on " + TestHosts.FILE + ": read memory stats of stopped failed: "),
                    e.getMessage());
            assertFalse(e.isNoDomain());
        }
    }

    @Test
    void aDomainThatStopsBeforeItsStatsAreReadHasNone() throws Exception {
        try (LibvirtHost host = TestHosts.open(TestHosts.FILE)) {
            Domain noshare = host.connection().domainLookupByName("noshare");
            noshare.destroy(); // persistent: still defined, now shut off
            DomainInventory inventory = new DomainInventory(host, new DomainXmlParser());
            assertEquals(
                    BalloonStats.NONE,
                    inventory.balloonStats(host.domainPointer(noshare), new DomainInventory.Buffers()));
            assertEquals(
                    DomainState.SHUT_OFF,
                    inventory
                            .sample(host.domainPointer(noshare), new DomainInventory.Buffers())
                            .orElseThrow()
                            .state());
        }
    }

    @Test
    void balloonStatsPeriodIsEnabledOnlyWhereItIsUnset() {
        try (LibvirtHost host = TestHosts.open(TestHosts.FILE)) {
            DomainInventory inventory = new DomainInventory(host, new DomainXmlParser());
            assertEquals(
                    OptionalInt.empty(),
                    inventory
                            .xml("noshare")
                            .orElseThrow()
                            .balloon()
                            .orElseThrow()
                            .statsPeriodSeconds());
            assertTrue(inventory.enableBalloonStatsPeriod("noshare", 10));
            assertEquals(
                    OptionalInt.of(10),
                    inventory
                            .xml("noshare")
                            .orElseThrow()
                            .balloon()
                            .orElseThrow()
                            .statsPeriodSeconds());
            assertFalse(inventory.enableBalloonStatsPeriod("noshare", 3), "already set");
            assertFalse(inventory.enableBalloonStatsPeriod("guarded", 10), "period 5 in its XML");
            assertEquals(
                    OptionalInt.of(5),
                    inventory
                            .xml("guarded")
                            .orElseThrow()
                            .balloon()
                            .orElseThrow()
                            .statsPeriodSeconds());
            assertFalse(inventory.enableBalloonStatsPeriod("noballoon", 10), "no balloon");
            assertFalse(inventory.enableBalloonStatsPeriod("stopped", 10), "not running");
            assertThrows(IllegalArgumentException.class, () -> inventory.enableBalloonStatsPeriod("noshare", 0));
        }
    }

    /** The figures the test driver makes up from the current memory (testDomainMemoryStats). */
    private static BalloonStats testDriverStats(long currentBytes) {
        return new BalloonStats(
                OptionalLong.of(currentBytes),
                OptionalLong.of(currentBytes / 2),
                OptionalLong.of(currentBytes),
                OptionalLong.of(currentBytes / 2),
                OptionalLong.of(currentBytes / 2),
                OptionalLong.of(currentBytes / 8),
                OptionalLong.of(0),
                OptionalLong.of(0),
                OptionalLong.of(TEST_DRIVER_LAST_UPDATE));
    }
}
