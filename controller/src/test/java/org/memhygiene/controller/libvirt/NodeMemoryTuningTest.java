package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.libvirt.Error.ErrorNumber;

class NodeMemoryTuningTest {
    private static final Path KSM = Path.of("/sys/kernel/mm/ksm");

    @Test
    void testDriverDoesNotSupportReading() {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            LibvirtAccessException e = assertThrows(LibvirtAccessException.class, () -> new NodeMemoryTuning(host).read());
            assertEquals("libvirt on test:///default: read node memory parameters failed: not supported by "
                    + "test:///default (this function is not supported by the connection driver: virNodeGetMemoryParameters)", e.getMessage());
            assertEquals(ErrorNumber.VIR_ERR_NO_SUPPORT, e.code().orElseThrow());
        }
    }

    @Test
    void validSettingsReachLibvirtWhichRefusesOnTheTestDriver() {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            NodeMemorySettings settings = NodeMemorySettings.parse(Map.of("shm_pages_to_scan", "1000"));
            LibvirtAccessException e = assertThrows(LibvirtAccessException.class,
                    () -> new NodeMemoryTuning(host).set(settings));
            assertTrue(e.isNotSupported(), e.getMessage());
            assertTrue(e.getMessage().startsWith("libvirt on test:///default: set node memory parameters "
                    + "{shm_pages_to_scan=1000} failed: not supported by test:///default"), e.getMessage());
        }
    }

    @Test
    void invalidValuesNeverReachLibvirt() {
        assertEquals("shm_pages_to_scan=-1: must be 0..4294967295", refused("shm_pages_to_scan", "-1"));
        assertEquals("shm_sleep_millisecs=2.5: not an integer", refused("shm_sleep_millisecs", "2.5"));
        assertEquals("shm_sleep_millisecs=20ms: not an integer", refused("shm_sleep_millisecs", "20ms"));
        assertEquals("shm_pages_to_scan=4294967296: must be 0..4294967295", refused("shm_pages_to_scan", "4294967296"));
        assertEquals("shm_merge_across_nodes=2: must be 0..1", refused("shm_merge_across_nodes", "2"));
        assertTrue(refused("shm_pages_shared", "5").startsWith("unknown or read-only node memory parameter shm_pages_shared"));
        assertEquals("no node memory parameter to set",
                assertThrows(IllegalArgumentException.class, () -> NodeMemorySettings.parse(Map.of())).getMessage());
    }

    @Test
    void settingsKeepLibvirtsNamesInOrder() {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("shm_merge_across_nodes", "0");
        text.put("shm_sleep_millisecs", " 20 ");
        text.put("shm_pages_to_scan", "100");
        NodeMemorySettings settings = NodeMemorySettings.parse(text);
        assertEquals(new NodeMemorySettings(OptionalLong.of(100), OptionalLong.of(20), OptionalLong.of(0)), settings);
        assertEquals("{shm_pages_to_scan=100, shm_sleep_millisecs=20, shm_merge_across_nodes=0}",
                settings.byName().toString());
    }

    /** Only where libvirtd (or virtqemud) runs: what libvirt reports must be what sysfs says. */
    @Test
    void qemuSystemReportsWhatSysfsSays() throws Exception {
        boolean daemon = Files.exists(Path.of("/run/libvirt/libvirt-sock")) || Files.exists(Path.of("/run/libvirt/virtqemud-sock"));
        if (!daemon || !Files.isDirectory(KSM)) {
            String reason = "skipped: no libvirtd/virtqemud socket under /run/libvirt or no " + KSM
                    + ", so qemu:///system cannot be compared with sysfs";
            System.out.println("NodeMemoryTuningTest.qemuSystemReportsWhatSysfsSays " + reason);
            Assumptions.abort(reason);
        }
        try (LibvirtHost host = new LibvirtHost(LibvirtHost.DEFAULT_URI)) {
            NodeMemoryParameters params = new NodeMemoryTuning(host).read();
            assertEquals(OptionalLong.of(sysfs("pages_to_scan")), params.pagesToScan());
            assertEquals(OptionalLong.of(sysfs("sleep_millisecs")), params.sleepMillis());
            // full_scans only grows, and libvirt read it before we did.
            assertTrue(params.fullScans().orElseThrow() <= sysfs("full_scans"), params.toString());
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
