package org.memhygiene.core.posture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /proc/swaps parsed and classified through /sys/block/dm-N/dm/uuid, on prepared trees and on this machine. */
class SwapDeviceTest {
    @TempDir
    Path root;

    private void put(String file, String text) throws IOException {
        Path path = root.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }

    @Test
    void eachDeviceIsZramDmCryptOrUnencrypted() throws IOException {
        put(
                "proc/swaps",
                "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                        + "/dev/sda2                               partition\t999420\t\t0\t\t-2\n"
                        + "/dev/zram0                              partition\t4194300\t\t0\t\t100\n"
                        + "/dev/dm-1                               partition\t1000\t\t0\t\t-3\n"
                        + "/dev/dm-2                               partition\t1000\t\t0\t\t-4\n"
                        + "/swapfile                               file\t\t1000\t\t0\t\t-5\n");
        put("sys/block/dm-1/dm/uuid", "CRYPT-PLAIN-cryptswap\n");
        put("sys/block/dm-2/dm/uuid", "LVM-Y9Xk\n");
        List<SwapDevice> devices =
                SwapDevice.read(root.resolve("proc"), root.resolve("sys")).orElseThrow();
        assertEquals(
                List.of(
                        SwapDevice.Kind.UNENCRYPTED,
                        SwapDevice.Kind.ZRAM,
                        SwapDevice.Kind.DM_CRYPT,
                        SwapDevice.Kind.UNENCRYPTED,
                        SwapDevice.Kind.UNENCRYPTED),
                devices.stream().map(SwapDevice::kind).toList());
        assertEquals("/dev/sda2", devices.get(0).device());
        assertEquals(
                "/dev/sda2                               partition\t999420\t\t0\t\t-2",
                devices.get(0).line());
    }

    @Test
    void noDevicesIsAnEmptyListAndAnUnreadableFileIsEmpty() throws IOException {
        assertEquals(Optional.empty(), SwapDevice.read(root.resolve("proc"), root.resolve("sys")));
        put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
        assertEquals(Optional.of(List.of()), SwapDevice.read(root.resolve("proc"), root.resolve("sys")));
    }

    @Test
    void thisMachinesSwapsParse() throws IOException {
        long lines = Files.readAllLines(Path.of("/proc/swaps")).stream()
                .skip(1)
                .filter(l -> !l.isBlank())
                .count();
        assertEquals(
                lines,
                SwapDevice.read(Path.of("/proc"), Path.of("/sys")).orElseThrow().size());
    }
}
