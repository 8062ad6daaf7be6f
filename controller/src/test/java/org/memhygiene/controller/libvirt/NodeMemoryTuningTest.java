package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.libvirt.Error.ErrorNumber;
import org.memhygiene.core.ksm.KsmHostLock;

@ExtendWith(KsmHostLock.class)
class NodeMemoryTuningTest {
    private static final Path KSM = Path.of("/sys/kernel/mm/ksm");

    @Test
    void testDriverDoesNotSupportReading() {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            LibvirtAccessException e =
                    assertThrows(LibvirtAccessException.class, () -> new NodeMemoryTuning(host).read());
            assertEquals(
                    "libvirt on test:///default: read node memory parameters failed: not supported by "
                            + "test:///default (this function is not supported by the connection driver: virNodeGetMemoryParameters)",
                    e.getMessage());
            assertEquals(ErrorNumber.VIR_ERR_NO_SUPPORT, e.code().orElseThrow());
        }
    }

    @Test
    void validSettingsReachLibvirtWhichRefusesOnTheTestDriver() {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            NodeMemorySettings settings = NodeMemorySettings.parse(Map.of("shm_pages_to_scan", "1000"));
            LibvirtAccessException e =
                    assertThrows(LibvirtAccessException.class, () -> new NodeMemoryTuning(host).set(settings));
            assertTrue(e.isNotSupported(), e.getMessage());
            assertTrue(
                    e.getMessage()
                            .startsWith("libvirt on test:///default: set node memory parameters "
                                    + "{shm_pages_to_scan=1000} failed: not supported by test:///default"),
                    e.getMessage());
        }
    }

    @Test
    void invalidValuesNeverReachLibvirt() {
        assertEquals("shm_pages_to_scan=-1: must be 0..4294967295", refused("shm_pages_to_scan", "-1"));
        assertEquals("shm_sleep_millisecs=2.5: not an integer", refused("shm_sleep_millisecs", "2.5"));
        assertEquals("shm_sleep_millisecs=20ms: not an integer", refused("shm_sleep_millisecs", "20ms"));
        assertEquals("shm_pages_to_scan=4294967296: must be 0..4294967295", refused("shm_pages_to_scan", "4294967296"));
        assertEquals("shm_merge_across_nodes=2: must be 0..1", refused("shm_merge_across_nodes", "2"));
        assertTrue(refused("shm_pages_shared", "5")
                .startsWith("unknown or read-only node memory parameter shm_pages_shared"));
        assertEquals(
                "no node memory parameter to set",
                assertThrows(IllegalArgumentException.class, () -> NodeMemorySettings.parse(Map.of()))
                        .getMessage());
    }

    @Test
    void settingsKeepLibvirtsNamesInOrder() {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("shm_merge_across_nodes", "0");
        text.put("shm_sleep_millisecs", " 20 ");
        text.put("shm_pages_to_scan", "100");
        NodeMemorySettings settings = NodeMemorySettings.parse(text);
        assertEquals(new NodeMemorySettings(OptionalLong.of(100), OptionalLong.of(20), OptionalLong.of(0)), settings);
        assertEquals(
                "{shm_pages_to_scan=100, shm_sleep_millisecs=20, shm_merge_across_nodes=0}",
                settings.byName().toString());
    }

    /**
     * Against a real libvirtd (started for the test when none runs): what libvirt reports is what sysfs
     * says, and a knob set through libvirt lands in sysfs. The knob is put back, also on failure.
     */
    @Test
    void qemuSystemReadsAndSetsWhatSysfsHas() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(KSM), () -> {
            System.out.println("NodeMemoryTuningTest.qemuSystemReadsAndSetsWhatSysfsHas skipped: no " + KSM);
            return "no " + KSM;
        });
        Optional<LibvirtDaemon> daemon =
                LibvirtDaemon.ensure("NodeMemoryTuningTest.qemuSystemReadsAndSetsWhatSysfsHas");
        Assumptions.assumeTrue(daemon.isPresent(), "no libvirtd");
        try (LibvirtDaemon running = daemon.get();
                LibvirtHost host = new LibvirtHost(LibvirtHost.DEFAULT_URI)) {
            NodeMemoryTuning tuning = new NodeMemoryTuning(host);
            NodeMemoryParameters params = tuning.read();
            assertEquals(OptionalLong.of(sysfs("pages_to_scan")), params.pagesToScan());
            assertEquals(OptionalLong.of(sysfs("sleep_millisecs")), params.sleepMillis());
            // full_scans only grows, and libvirt read it before we did.
            assertTrue(params.fullScans().orElseThrow() <= sysfs("full_scans"), params.toString());

            long before = sysfs("pages_to_scan");
            try {
                tuning.set(new NodeMemorySettings(
                        OptionalLong.of(before + 7), OptionalLong.empty(), OptionalLong.empty()));
                assertEquals(before + 7, sysfs("pages_to_scan"), "set through libvirt, visible in sysfs");
            } finally {
                Files.writeString(KSM.resolve("pages_to_scan"), Long.toString(before));
            }
        }
    }

    private static long sysfs(String file) throws Exception {
        return Long.parseLong(Files.readString(KSM.resolve(file)).strip());
    }

    private static String refused(String name, String value) {
        return assertThrows(IllegalArgumentException.class, () -> NodeMemorySettings.parse(Map.of(name, value)))
                .getMessage();
    }
}
