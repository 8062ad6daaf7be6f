package org.memhygiene.core.posture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One active swap device from /proc/swaps, and whether what is swapped to it outlives the process on a
 * disk in clear. Shared by the guest agent's probe (the guest's swap) and the controller's posture scorer
 * (the host's swap, where a QEMU process's guest RAM goes unless it is locked).
 *
 * @param device the device or file, as /proc/swaps prints it
 * @param line   the whole /proc/swaps line, for evidence
 * @param kind   what protects it
 */
public record SwapDevice(String device, String line, Kind kind) {

    /** What keeps swapped-out pages from persisting in clear. */
    public enum Kind {
        /** zram: compressed in RAM, gone at power-off (https://docs.kernel.org/admin-guide/blockdev/zram.html). */
        ZRAM("zram (in RAM)"),
        /** A dm-crypt mapping: its dm UUID starts with CRYPT- (cryptsetup's convention). */
        DM_CRYPT("encrypted (dm-crypt)"),
        /** A partition, a file, or any other mapping. */
        UNENCRYPTED("unencrypted");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * The devices in {@code procRoot}/swaps, classified through {@code sysRoot}/block/dm-N/dm/uuid;
     * empty when /proc/swaps cannot be read (an empty list means no swap).
     */
    public static Optional<List<SwapDevice>> read(Path procRoot, Path sysRoot) {
        return read(procRoot.resolve("swaps"))
                .map(text -> text.lines()
                        .skip(1)
                        .filter(l -> !l.isBlank())
                        .map(l -> {
                            String line = l.strip();
                            String device = line.split("\\s+")[0];
                            return new SwapDevice(device, line, kind(device, sysRoot));
                        })
                        .toList());
    }

    private static Kind kind(String device, Path sysRoot) {
        Path file = Path.of(device).getFileName();
        String name = file == null ? device : file.toString();
        if (name.startsWith("zram")) {
            return Kind.ZRAM;
        }
        if (name.startsWith("dm-")) {
            // dm-crypt devices carry a UUID starting with CRYPT-
            // (https://docs.kernel.org/admin-guide/device-mapper/dm-crypt.html).
            return read(sysRoot.resolve("block").resolve(name).resolve("dm/uuid"))
                    .filter(u -> u.startsWith("CRYPT-"))
                    .map(u -> Kind.DM_CRYPT)
                    .orElse(Kind.UNENCRYPTED);
        }
        return Kind.UNENCRYPTED;
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
