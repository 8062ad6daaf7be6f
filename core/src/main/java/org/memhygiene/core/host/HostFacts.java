package org.memhygiene.core.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.memhygiene.core.posture.SwapDevice;

/**
 * The host-wide facts posture scores besides KSM, as a {@link HostBackend} knows them: the swap devices,
 * the CPU vulnerability files and the NUMA nodes. The real host reads them from /proc and /sys
 * ({@link #read}); the simulator takes them from its scenario. A part that is not known is empty; the rule
 * it feeds is skipped.
 *
 * @param swaps              /proc/swaps, classified (empty when unreadable; an empty list is no swap)
 * @param swapsFile          where {@code swaps} came from, for evidence ("/proc/swaps")
 * @param cpuVulnerabilities /sys/devices/system/cpu/vulnerabilities: file name to its text, sorted by name;
 *                           empty when the directory is missing (older kernels, other architectures)
 * @param vulnerabilitiesDir where they came from, for evidence
 * @param numaNodes          how many nodes /sys/devices/system/node/online lists
 * @param nodesFile          where that came from, for evidence
 */
public record HostFacts(
        Optional<List<SwapDevice>> swaps,
        String swapsFile,
        Map<String, String> cpuVulnerabilities,
        String vulnerabilitiesDir,
        OptionalInt numaNodes,
        String nodesFile) {

    static final String VULNERABILITIES = "devices/system/cpu/vulnerabilities";
    static final String NODES_ONLINE = "devices/system/node/online";

    public HostFacts {
        swaps = swaps.map(List::copyOf);
        cpuVulnerabilities = new TreeMap<>(cpuVulnerabilities);
    }

    /** The facts of the machine whose /proc and /sys are at these roots (tests pass trees of their own). */
    public static HostFacts read(Path procRoot, Path sysRoot) {
        Map<String, String> vulnerabilities = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(sysRoot.resolve(VULNERABILITIES))) {
            for (Path file : files) {
                text(file).ifPresent(t -> vulnerabilities.put(file.getFileName().toString(), t));
            }
        } catch (IOException | RuntimeException e) {
            vulnerabilities.clear(); // no such directory here: the rule is skipped
        }
        return new HostFacts(
                SwapDevice.read(procRoot, sysRoot),
                procRoot.resolve("swaps").toString(),
                vulnerabilities,
                sysRoot.resolve(VULNERABILITIES).toString(),
                text(sysRoot.resolve(NODES_ONLINE)).map(HostFacts::countNodes).orElse(OptionalInt.empty()),
                sysRoot.resolve(NODES_ONLINE).toString());
    }

    /** A cpulist such as "0", "0-1" or "0,2-3" (https://docs.kernel.org/admin-guide/cputopology.html). */
    static OptionalInt countNodes(String list) {
        int count = 0;
        try {
            for (String range : list.split(",")) {
                String[] ends = range.split("-");
                count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(count);
    }

    private static Optional<String> text(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8).strip());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
