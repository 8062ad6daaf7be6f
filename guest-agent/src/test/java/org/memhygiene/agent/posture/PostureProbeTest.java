package org.memhygiene.agent.posture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;

class PostureProbeTest {
    @TempDir
    Path root;

    Path proc;
    Path sys;
    Path boot;

    @BeforeEach
    void quietGuest() throws IOException {
        proc = root.resolve("proc");
        sys = root.resolve("sys");
        boot = root.resolve("boot");
        put(proc, "cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda1 init_on_free=1\n");
        put(proc, "sys/kernel/osrelease", "6.1.0-28-amd64\n");
        put(proc, "swaps", "Filename\tType\tSize\tUsed\tPriority\n");
        put(proc, "sys/kernel/core_pattern", "|/bin/false\n");
        put(proc, "sys/fs/suid_dumpable", "0\n");
        put(sys, "power/state", "freeze mem\n");
        Files.createDirectories(sys.resolve("bus/virtio/drivers/virtio_balloon"));
        put(sys, "module/page_reporting/parameters/page_reporting_order", "9\n");
        put(boot, "config-6.1.0-28-amd64", "CONFIG_SECRETMEM=y\nCONFIG_INIT_ON_FREE_DEFAULT_ON=\n");
    }

    private static void put(Path base, String file, String text) throws IOException {
        Path path = base.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }

    private Set<String> ids() {
        return new PostureProbe(proc, sys, boot)
                .probe().stream().map(Finding::id).collect(Collectors.toSet());
    }

    @Test
    void aWellConfiguredGuestHasOnlyInformationalFindings() {
        List<Finding> findings = new PostureProbe(proc, sys, boot).probe();
        assertTrue(findings.stream().allMatch(f -> f.severity() == Severity.INFO), findings.toString());
        assertEquals(
                Set.of(
                        "guest.kernel.version",
                        "guest.init_on_free.on",
                        "guest.swap.none",
                        "guest.free_page_reporting.on"),
                ids());
    }

    @Test
    void eachWeaknessFlipsItsFinding() throws IOException {
        put(proc, "cmdline", "root=/dev/vda1 resume=/dev/vda2\n");
        put(proc, "swaps", "Filename\tType\tSize\tUsed\tPriority\n/dev/vda2 partition 1048572 0 -2\n");
        put(proc, "sys/kernel/core_pattern", "|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h\n");
        put(proc, "sys/fs/suid_dumpable", "1\n");
        put(sys, "power/state", "freeze mem disk\n");
        Files.delete(sys.resolve("module/page_reporting/parameters/page_reporting_order"));
        put(boot, "config-6.1.0-28-amd64", "# CONFIG_SECRETMEM is not set\n");
        Set<String> ids = ids();
        for (String id : List.of(
                "guest.init_on_free.off",
                "guest.init_on_alloc.off",
                "guest.swap.unencrypted",
                "guest.hibernation.available",
                "guest.coredump.enabled",
                "guest.coredump.suid",
                "guest.free_page_reporting.off",
                "guest.memfd_secret.unavailable")) {
            assertTrue(ids.contains(id), id + " in " + ids);
        }
        Finding swap = new PostureProbe(proc, sys, boot)
                .probe().stream()
                        .filter(f -> f.id().equals("guest.swap.unencrypted"))
                        .findFirst()
                        .orElseThrow();
        assertEquals(Severity.HIGH, swap.severity());
        assertTrue(swap.evidence().contains("/dev/vda2"), swap.evidence());
    }

    @Test
    void encryptedSwapAndZramAreProtected() throws IOException {
        put(
                proc,
                "swaps",
                "Filename\tType\tSize\tUsed\tPriority\n/dev/dm-1 partition 1 0 -2\n/dev/zram0 partition 1 0 100\n");
        put(sys, "block/dm-1/dm/uuid", "CRYPT-PLAIN-swap\n");
        Set<String> ids = ids();
        assertTrue(ids.contains("guest.swap.protected"));
        assertFalse(ids.contains("guest.swap.unencrypted"), ids.toString());
        put(sys, "block/dm-1/dm/uuid", "LVM-abc\n");
        assertTrue(ids().contains("guest.swap.unencrypted"), "an LVM volume is not encryption");
    }

    @Test
    void kernelConfigTurnsInitOnFreeOnUnlessTheCommandLineTurnsItOff() throws IOException {
        put(proc, "cmdline", "root=/dev/vda1\n");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(proc.resolve("config.gz")))) {
            out.write("CONFIG_INIT_ON_FREE_DEFAULT_ON=y\nCONFIG_SECRETMEM=y\n".getBytes());
        }
        assertTrue(ids().contains("guest.init_on_free.on"));
        put(proc, "cmdline", "root=/dev/vda1 init_on_free=0\n");
        assertTrue(ids().contains("guest.init_on_free.off"));
    }

    @Test
    void missingFilesNeverFailTheProbe() {
        List<Finding> findings =
                new PostureProbe(root.resolve("none"), root.resolve("none"), root.resolve("none")).probe();
        assertTrue(findings.stream()
                .anyMatch(
                        f -> f.id().equals("guest.kernel.version") && f.title().contains("unknown")));
    }

    @Test
    void readsThisMachine() throws IOException {
        String release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        String pattern =
                Files.readString(Path.of("/proc/sys/kernel/core_pattern")).strip();
        List<Finding> findings = PostureProbe.ofThisMachine().probe();
        assertTrue(findings.stream().anyMatch(f -> f.evidence().contains(release)), findings.toString());
        boolean dumpsOff = pattern.isEmpty() || pattern.endsWith("/false");
        assertEquals(
                !dumpsOff,
                findings.stream()
                        .anyMatch(f -> f.id().equals("guest.coredump.enabled")
                                && f.evidence().contains(pattern)),
                findings.toString());
    }
}
