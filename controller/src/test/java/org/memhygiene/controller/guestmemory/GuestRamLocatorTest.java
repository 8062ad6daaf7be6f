package org.memhygiene.controller.guestmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.procmem.MemoryMapping;
import org.memhygiene.core.procmem.ProcessMaps;

/**
 * Matching on maps text: the first case is a real QEMU 7.2 of the real-VM suite (libvirt, q35,
 * memory-backend-ram "pc.ram" of 384 MiB, TCG), cut to its larger mappings; the others vary it as
 * QEMU does for NUMA nodes, memfd and hugetlbfs backends. QemuGuestRamTest runs real QEMU processes.
 */
class GuestRamLocatorTest {
    private static final long MIB = 1024 * 1024;
    private static final Path SOURCE = Path.of("maps");
    private static final String LIBVIRT_QEMU = """
            559f6fede000-559f70287000 rw-p 00de3000 fe:00 2170958                    /usr/bin/qemu-system-x86_64
            559f7d1d5000-559f7e8a3000 rw-p 00000000 00:00 0                          [heap]
            7fe508000000-7fe5090dc000 rw-p 00000000 00:00 0\s
            7fe5090dc000-7fe50c000000 ---p 00000000 00:00 0\s
            7fe515400000-7fe517d28000 r--p 00000000 fe:00 1507796                    /var/cache/memhygiene-e2e/image-41daa20e561ee519/initrd.img
            7fe517e00000-7fe52fe00000 rw-p 00000000 00:00 0\s
            7fe530000000-7fe56ffff000 rwxp 00000000 00:00 0\s
            7fe575200000-7fe575400000 rw-p 00000000 00:00 0\s
            7fe5765fa000-7fe576dfa000 rw-p 00000000 00:00 0\s
            7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0                          [stack]
            """;

    @Test
    void oneMappingOfTheDomainsMemory() {
        GuestRamLocator.Located located = match(LIBVIRT_QEMU, 384 * MIB, Map.of());
        GuestRamLayout layout = located.layout().orElseThrow();
        assertEquals(
                List.of(new GuestRamRegion(
                        0x7fe517e00000L, 0x7fe52fe00000L, GuestRamRegion.Backing.ANONYMOUS, false, "")),
                layout.regions());
        assertEquals("one mapping of the domain's 384 MiB", layout.howFound());
        assertEquals(98304, layout.pages(4096));
    }

    @Test
    void tcgsCodeBufferIsNeverGuestRam() {
        // The rwxp mapping is 1023 MiB; a guest of that size must not be matched to it.
        GuestRamLocator.Located located = match(LIBVIRT_QEMU, 0x3ffff000L, Map.of());
        assertTrue(located.layout().isEmpty());
        assertTrue(
                located.explanation()
                        .startsWith(
                                "no mapping, or set of mappings with QEMU's RAM-block VmFlags, adds up"
                                        + " to the domain's 1023 MiB; the largest writable ones: anonymous 0x7fe517e00000-0x7fe52fe00000 (384 MiB)"),
                located.explanation());
    }

    @Test
    void numaNodesAreOneBackendEachAndVmFlagsTellThemFromAMallocArena() {
        String maps = """
                7f0000000000-7f0004000000 rw-p 00000000 00:00 0\s
                7f0004000000-7f0004001000 ---p 00000000 00:00 0\s
                7f1000000000-7f1004000000 rw-p 00000000 00:00 0\s
                7f1004000000-7f1004200000 ---p 00000000 00:00 0\s
                7f2000000000-7f2002000000 rw-p 00000000 00:00 0\s
                """;
        Map<Long, Set<String>> flags = Map.of(
                0x7f0000000000L,
                Set.of("rd", "wr", "ac"),
                0x7f1000000000L,
                Set.of("rd", "wr", "dc", "hg", "mg"),
                0x7f2000000000L,
                Set.of("rd", "wr", "dc", "hg", "mg"));
        GuestRamLayout layout = match(maps, 96 * MIB, flags).layout().orElseThrow();
        assertEquals(
                List.of(0x7f1000000000L, 0x7f2000000000L),
                layout.regions().stream().map(GuestRamRegion::startAddress).toList());
        assertEquals(
                "2 mappings with QEMU's RAM-block VmFlags (dc/mg/hg/ht) adding up to the domain's 96 MiB"
                        + " (one per memory backend)",
                layout.howFound());
    }

    @Test
    void twoMappingsOfTheRightSizeAreToldApartByVmFlags() {
        String maps = """
                7f0000000000-7f0004000000 rw-p 00000000 00:00 0\s
                7f1000000000-7f1004000000 rw-p 00000000 00:00 0\s
                """;
        GuestRamLayout layout = match(maps, 64 * MIB, Map.of(0x7f1000000000L, Set.of("dc", "mg")))
                .layout()
                .orElseThrow();
        assertEquals(0x7f1000000000L, layout.regions().get(0).startAddress());
        GuestRamLocator.Located ambiguous =
                match(maps, 64 * MIB, Map.of(0x7f1000000000L, Set.of("mg"), 0x7f0000000000L, Set.of("hg")));
        assertTrue(
                ambiguous.explanation().startsWith("2 mappings of the domain's 64 MiB look like QEMU RAM blocks"),
                ambiguous.explanation());
    }

    @Test
    void memfdHugetlbfsAndFilesWithOddNamesAreBackingsToo() {
        String maps = """
                7f0000000000-7f0004000000 rw-s 00000000 00:01 4242                       /memfd:memory-backend-memfd (deleted)
                7f1000000000-7f1040000000 rw-s 00000000 00:2f 77                         /dev/hugepages/libvirt/qemu/1-vm/qemu_back_mem.pc.ram.Yx2 (deleted)
                7f2000000000-7f2000800000 rw-p 00000000 08:01 99                         /var/lib/ram dir/a\\012b
                """;
        GuestRamRegion memfd =
                match(maps, 64 * MIB, Map.of()).layout().orElseThrow().regions().get(0);
        assertEquals(GuestRamRegion.Backing.MEMFD, memfd.backing());
        assertTrue(memfd.shared());
        assertEquals("/memfd:memory-backend-memfd (deleted)", memfd.path());
        GuestRamRegion hugetlbfs = match(maps, 1024 * MIB, Map.of())
                .layout()
                .orElseThrow()
                .regions()
                .get(0);
        assertEquals(GuestRamRegion.Backing.FILE, hugetlbfs.backing());
        GuestRamRegion file =
                match(maps, 8 * MIB, Map.of()).layout().orElseThrow().regions().get(0);
        assertEquals("/var/lib/ram dir/a\\012b", file.path());
        assertEquals("private file /var/lib/ram dir/a\\012b 0x7f2000000000-0x7f2000800000 (8 MiB)", file.describe());
    }

    @Test
    void adjacentMappingsOfOneBackingJoinAndAChangedLayoutIsNoticed() {
        // Part of the guest RAM mlocked: the kernel splits the area, maps shows two lines.
        String split = """
                7f0000000000-7f0001000000 rw-p 00000000 00:00 0\s
                7f0001000000-7f0004000000 rw-p 00000000 00:00 0\s
                """;
        GuestRamLayout layout = match(split, 64 * MIB, Map.of()).layout().orElseThrow();
        assertEquals(1, layout.regions().size());
        assertEquals(64 * MIB, layout.sizeBytes());
        assertEquals(Optional.empty(), GuestRamLocator.changes(layout, parse(split)));
        String joined = "7f0000000000-7f0004000000 rw-p 00000000 00:00 0 \n";
        assertEquals(Optional.empty(), GuestRamLocator.changes(layout, parse(joined)), "joined again: the same memory");
        assertEquals(
                Optional.of(
                        "guest RAM mapping anonymous 0x7f0000000000-0x7f0004000000 (64 MiB) is now mapped only to 0x7f0001000000"),
                GuestRamLocator.changes(layout, parse("7f0000000000-7f0001000000 rw-p 00000000 00:00 0 \n")));
        assertEquals(
                Optional.of(
                        "guest RAM mapping anonymous 0x7f0000000000-0x7f0004000000 (64 MiB) is now gone or replaced"),
                GuestRamLocator.changes(layout, parse("7f0000000000-7f0004000000 r--p 00000000 00:00 0 \n")));
    }

    @Test
    void theDomainsMemoryMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> match(LIBVIRT_QEMU, 0, Map.of()));
    }

    private static GuestRamLocator.Located match(String maps, long expectedBytes, Map<Long, Set<String>> flags) {
        return GuestRamLocator.match(parse(maps), expectedBytes, () -> flags);
    }

    private static List<MemoryMapping> parse(String maps) {
        return ProcessMaps.parse(maps, SOURCE);
    }
}
