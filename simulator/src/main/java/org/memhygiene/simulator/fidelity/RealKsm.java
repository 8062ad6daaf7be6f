package org.memhygiene.simulator.fidelity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmText;

/**
 * This machine's /sys/kernel/mm/ksm for the fidelity run: reads the counters, writes knobs in
 * KsmSettings order, and puts every knob it touched back (also from a shutdown hook).
 */
final class RealKsm implements AutoCloseable {
    static final Path ROOT = Path.of("/sys/kernel/mm/ksm");
    private final Map<KsmKnob, String> previous = new LinkedHashMap<>();
    private final Thread hook = new Thread(this::restore, "ksm-restore");

    RealKsm(List<KsmKnob> touched) {
        for (KsmKnob knob : touched) {
            previous.put(knob, read(knob.fileName()).strip().replaceAll("^.*\\[(.*)\\].*$", "$1"));
        }
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Why a real run is impossible here, or null when it can run. */
    static String unavailableReason() {
        if (!Files.isWritable(ROOT.resolve("run"))) {
            return "needs root and a kernel with KSM (" + ROOT + "/run not writable)";
        }
        if (!Files.exists(ROOT.resolve("ksm_zero_pages")) || !Files.exists(ROOT.resolve("smart_scan"))) {
            return "needs Linux 6.7+ (ksm_zero_pages, smart_scan)";
        }
        return null;
    }

    /**
     * Every file, read again until pages_scanned is the same before and after: ksmd may run a batch
     * while the files are read one by one, and a sample must not mix two states.
     */
    KsmStats read() {
        for (int attempt = 0; ; attempt++) {
            String before = read("pages_scanned");
            KsmStats stats = readOnce();
            if (before.equals(read("pages_scanned")) || attempt == 20) {
                return stats;
            }
        }
    }

    private KsmStats readOnce() {
        Map<String, String> text = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(ROOT)) {
            files.forEach(f -> text.put(f.getFileName().toString(), read(f.getFileName().toString())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return KsmText.parse(text, Map.of());
    }

    void apply(KsmSettings settings) {
        settings.inWriteOrder().forEach(e -> write(e.getKey().fileName(), e.getValue()));
    }

    private static String read(String file) {
        try {
            return Files.readString(ROOT.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(String file, String value) {
        try {
            Files.writeString(ROOT.resolve(file), value);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + value + " to " + ROOT.resolve(file) + ": " + e.getMessage(), e);
        }
    }

    /** Unmerges what is left (run=2 frees every rmap item), then puts each knob back, run last. */
    synchronized void restore() {
        if (previous.isEmpty()) {
            return;
        }
        write("run", "2");
        previous.forEach((knob, value) -> {
            if (knob != KsmKnob.RUN) {
                write(knob.fileName(), value);
            }
        });
        write("run", previous.getOrDefault(KsmKnob.RUN, "0"));
        previous.clear();
    }

    @Override
    public void close() {
        restore();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
    }
}
