package org.memhygiene.controller.guestmemory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.memhygiene.core.procmem.MemoryMapping;
import org.memhygiene.core.procmem.ProcessMaps;
import org.memhygiene.core.procmem.Smaps;
import org.memhygiene.core.procmem.SmapsEntry;

/**
 * Finds the mappings of a QEMU process that back its guest's RAM, from the domain's memory size
 * (libvirt's {@code <memory>}, which QEMU's RAM backends add up to) and /proc/PID/maps; docs/LIBVIRT.md
 * says what QEMU maps and why this finds it.
 * <ol>
 * <li>A single writable, non-executable mapping (anonymous, memfd or file) of exactly that size: the usual
 *     case, QEMU's {@code pc.ram} / {@code memory-backend-ram} (one RAMBlock, however the machine splits
 *     it below and above 4 GiB in guest-physical space). Executable mappings are left out: TCG's code
 *     buffer is an anonymous {@code rwxp} mapping of up to 1 GiB.</li>
 * <li>The same after joining adjacent mappings of one backing that the kernel keeps apart.</li>
 * <li>Otherwise (NUMA nodes and DIMMs: one backend each; or two mappings of the right size) smaps's
 *     VmFlags pick the mappings QEMU made for RAM blocks — it madvises every one DONTFORK ({@code dc}) and
 *     HUGEPAGE ({@code hg}), and MERGEABLE ({@code mg}) unless {@code <nosharepages/>}; hugetlbfs shows
 *     {@code ht} — and the largest of them that add up to the domain's memory are taken.</li>
 * </ol>
 * smaps is read only in the last case: reading it walks every page table of the process.
 */
public final class GuestRamLocator {
    /** Mappings smaller than this are never guest RAM (option ROMs, VGA RAM and the like are separate RAM blocks). */
    static final long MIN_REGION_BYTES = 1024 * 1024;

    private static final Set<String> RAM_BLOCK_FLAGS = Set.of("dc", "mg", "hg", "ht");

    private final Path procRoot;

    public GuestRamLocator(Path procRoot) {
        this.procRoot = procRoot;
    }

    /** The outcome: a layout, or why none was found. */
    public record Located(Optional<GuestRamLayout> layout, String explanation) {
        static Located found(List<GuestRamRegion> regions, String how) {
            return new Located(Optional.of(new GuestRamLayout(regions, how)), how);
        }

        static Located notFound(String why) {
            return new Located(Optional.empty(), why);
        }
    }

    /** Reads /proc/PID/maps (and smaps if needed); a failure to read them is a {@code ProcMemException}. */
    public Located locate(int pid, long expectedRamBytes) {
        return match(ProcessMaps.read(procRoot, pid), expectedRamBytes, () -> vmFlagsByStart(pid));
    }

    static Located match(List<MemoryMapping> maps, long expectedRamBytes, Supplier<Map<Long, Set<String>>> vmFlags) {
        if (expectedRamBytes <= 0) {
            throw new IllegalArgumentException("the domain's memory must be positive, got " + expectedRamBytes);
        }
        List<MemoryMapping> candidates =
                maps.stream().filter(GuestRamLocator::candidate).toList();
        List<List<MemoryMapping>> single = candidates.stream()
                .filter(m -> m.sizeBytes() == expectedRamBytes)
                .map(List::of)
                .toList();
        if (single.size() == 1) {
            return Located.found(regions(single), "one mapping of the domain's " + mib(expectedRamBytes) + " MiB");
        }
        List<List<MemoryMapping>> joined = join(candidates);
        List<List<MemoryMapping>> exact =
                joined.stream().filter(r -> size(r) == expectedRamBytes).toList();
        if (exact.size() == 1 && single.isEmpty()) {
            return Located.found(
                    regions(exact),
                    exact.get(0).size() + " adjacent mappings of one backing, together the domain's "
                            + mib(expectedRamBytes) + " MiB");
        }
        Map<Long, Set<String>> flags = vmFlags.get();
        List<List<MemoryMapping>> ramBlocks = join(candidates.stream()
                .filter(m ->
                        flags.getOrDefault(m.startAddress(), Set.of()).stream().anyMatch(RAM_BLOCK_FLAGS::contains))
                .toList());
        List<List<MemoryMapping>> exactBlocks =
                ramBlocks.stream().filter(r -> size(r) == expectedRamBytes).toList();
        if (exactBlocks.size() == 1) {
            return Located.found(
                    regions(exactBlocks),
                    "the one mapping of the domain's " + mib(expectedRamBytes)
                            + " MiB with QEMU's RAM-block VmFlags (dc/mg/hg/ht)");
        }
        if (exactBlocks.size() > 1) {
            return Located.notFound(exactBlocks.size() + " mappings of the domain's " + mib(expectedRamBytes)
                    + " MiB look like QEMU RAM blocks: " + describe(exactBlocks));
        }
        List<List<MemoryMapping>> bySize = new ArrayList<>(ramBlocks);
        bySize.sort(Comparator.comparingLong(GuestRamLocator::size).reversed());
        List<List<MemoryMapping>> chosen = new ArrayList<>();
        long remaining = expectedRamBytes;
        for (List<MemoryMapping> region : bySize) {
            if (size(region) <= remaining) {
                chosen.add(region);
                remaining -= size(region);
            }
        }
        if (remaining == 0) {
            chosen.sort(Comparator.comparingLong(r -> r.get(0).startAddress()));
            return Located.found(
                    regions(chosen),
                    chosen.size() + " mappings with QEMU's RAM-block VmFlags (dc/mg/hg/ht)"
                            + " adding up to the domain's " + mib(expectedRamBytes) + " MiB (one per memory backend)");
        }
        return Located.notFound("no mapping, or set of mappings with QEMU's RAM-block VmFlags, adds up to the domain's "
                + mib(expectedRamBytes) + " MiB; the largest writable ones: " + describe(largest(joined)));
    }

    /**
     * Whether the layout still stands in {@code maps}: every region still covered, end to end, by
     * mappings of the same backing. Empty when it does, else what changed.
     */
    public static Optional<String> changes(GuestRamLayout layout, List<MemoryMapping> maps) {
        for (GuestRamRegion region : layout.regions()) {
            long covered = region.startAddress();
            for (MemoryMapping m : maps) {
                if (m.startAddress() == covered
                        && Long.compareUnsigned(m.endAddress(), region.endAddress()) <= 0
                        && candidate(m)
                        && backing(m) == region.backing()
                        && m.shared() == region.shared()
                        && pathOf(m).equals(region.path())) {
                    covered = m.endAddress();
                }
            }
            if (covered != region.endAddress()) {
                return Optional.of("guest RAM mapping " + region.describe() + " is now "
                        + (covered == region.startAddress()
                                ? "gone or replaced"
                                : "mapped only to 0x" + Long.toHexString(covered)));
            }
        }
        return Optional.empty();
    }

    private Map<Long, Set<String>> vmFlagsByStart(int pid) {
        return Smaps.read(procRoot, pid).stream()
                .collect(Collectors.toMap(e -> e.mapping().startAddress(), SmapsEntry::vmFlags, (a, b) -> a));
    }

    private static boolean candidate(MemoryMapping m) {
        boolean special =
                m.inode() == 0 && m.path().startsWith("[") && !m.path().startsWith("[anon:");
        return m.readable() && m.writable() && !m.executable() && !special && m.sizeBytes() >= MIN_REGION_BYTES;
    }

    /** Adjacent candidates of one backing, as runs. */
    private static List<List<MemoryMapping>> join(List<MemoryMapping> candidates) {
        List<List<MemoryMapping>> runs = new ArrayList<>();
        List<MemoryMapping> run = new ArrayList<>();
        for (MemoryMapping m : candidates) {
            if (!run.isEmpty() && !continues(run.get(run.size() - 1), m)) {
                runs.add(run);
                run = new ArrayList<>();
            }
            run.add(m);
        }
        if (!run.isEmpty()) {
            runs.add(run);
        }
        return runs;
    }

    private static boolean continues(MemoryMapping previous, MemoryMapping next) {
        boolean fileContinues =
                previous.inode() == 0 || next.offsetBytes() == previous.offsetBytes() + previous.sizeBytes();
        return previous.endAddress() == next.startAddress()
                && previous.permissions().equals(next.permissions())
                && previous.device().equals(next.device())
                && previous.inode() == next.inode()
                && previous.path().equals(next.path())
                && fileContinues;
    }

    private static List<GuestRamRegion> regions(List<List<MemoryMapping>> runs) {
        return runs.stream()
                .map(run -> {
                    MemoryMapping first = run.get(0);
                    return new GuestRamRegion(
                            first.startAddress(),
                            run.get(run.size() - 1).endAddress(),
                            backing(first),
                            first.shared(),
                            pathOf(first));
                })
                .toList();
    }

    private static GuestRamRegion.Backing backing(MemoryMapping m) {
        if (m.anonymous()) {
            return GuestRamRegion.Backing.ANONYMOUS;
        }
        return m.memfd() ? GuestRamRegion.Backing.MEMFD : GuestRamRegion.Backing.FILE;
    }

    private static String pathOf(MemoryMapping m) {
        return m.anonymous() ? "" : m.path();
    }

    private static long size(List<MemoryMapping> run) {
        return run.get(run.size() - 1).endAddress() - run.get(0).startAddress();
    }

    private static List<List<MemoryMapping>> largest(List<List<MemoryMapping>> runs) {
        return runs.stream()
                .sorted(Comparator.comparingLong(GuestRamLocator::size).reversed())
                .limit(4)
                .toList();
    }

    private static String describe(List<List<MemoryMapping>> runs) {
        return runs.isEmpty()
                ? "none"
                : regions(runs).stream().map(GuestRamRegion::describe).collect(Collectors.joining(", "));
    }

    private static long mib(long bytes) {
        return bytes / (1024 * 1024);
    }
}
