package org.memhygiene.controller.posture;

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
 * The host-wide files posture reads besides KSM, once a minute rather than every sample (they change
 * with swapon, a microcode load or a reboot): the swap devices, the CPU vulnerability files and the
 * NUMA nodes. A file that cannot be read leaves its part empty; the rule it feeds is skipped.
 *
 * @param swaps           /proc/swaps, classified (empty when unreadable; an empty list is no swap)
 * @param vulnerabilities /sys/devices/system/cpu/vulnerabilities: file name to its text, sorted by name;
 *                        empty when the directory is missing (older kernels, other architectures)
 * @param numaNodes       how many nodes /sys/devices/system/node/online lists
 * @param procRoot        where they were read, for evidence
 * @param sysRoot         as above
 */
record HostFiles(Optional<List<SwapDevice>> swaps, Map<String, String> vulnerabilities, OptionalInt numaNodes,
        Path procRoot, Path sysRoot) {

    static final String VULNERABILITIES = "devices/system/cpu/vulnerabilities";
    static final String NODES_ONLINE = "devices/system/node/online";

    static HostFiles read(Path procRoot, Path sysRoot) {
        Map<String, String> vulnerabilities = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(sysRoot.resolve(VULNERABILITIES))) {
            for (Path file : files) {
                text(file).ifPresent(t -> vulnerabilities.put(file.getFileName().toString(), t));
            }
        } catch (IOException | RuntimeException e) {
            vulnerabilities.clear(); // no such directory here: the rule is skipped
        }
        return new HostFiles(SwapDevice.read(procRoot, sysRoot), vulnerabilities,
                text(sysRoot.resolve(NODES_ONLINE)).map(HostFiles::countNodes).orElse(OptionalInt.empty()), procRoot, sysRoot);
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
