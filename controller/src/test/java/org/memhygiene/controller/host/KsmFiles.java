package org.memhygiene.controller.host;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmText;

/** Hand-written /sys/kernel/mm/ksm files for tests that build their own host snapshots. */
public final class KsmFiles {
    private KsmFiles() {}

    /**
     * The KSM sample a host with these files (name to value; null for a host without KSM) gives at {@code at},
     * {@code elapsedSeconds} after its first sample, parsed as the real sysfs text would be.
     */
    public static Optional<KsmSample> sample(
            Map<String, Long> files, Instant at, long elapsedSeconds, long pageSizeBytes) {
        if (files == null) {
            return Optional.empty();
        }
        Map<String, String> text = new LinkedHashMap<>();
        files.forEach((file, value) -> text.put(file, value + "\n"));
        return Optional.of(
                new KsmSample(at, elapsedSeconds * 1_000_000_000L, pageSizeBytes, KsmText.parse(text, Map.of())));
    }
}
