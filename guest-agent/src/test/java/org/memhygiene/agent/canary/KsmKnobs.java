package org.memhygiene.agent.canary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * This machine's KSM for a test: sets knobs, and puts every one it set back in the reverse order (set run
 * last, so that it is put back first and ksmd stops before its pace changes back; advisor_mode before
 * pages_to_scan, which the kernel refuses while the advisor runs), from {@link #close} and from a shutdown
 * hook should the JVM be killed.
 */
final class KsmKnobs implements AutoCloseable {
    static final Path ROOT = Path.of("/sys/kernel/mm/ksm");
    private final Map<String, String> previous = new LinkedHashMap<>();
    private final Thread hook = new Thread(this::restore, "ksm-knobs-restore");

    KsmKnobs() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Writes {@code value} to {@code knob}, remembering the value it had the first time. */
    void set(String knob, String value) {
        previous.putIfAbsent(knob, current(knob));
        write(knob, value);
    }

    /** A knob's value; the selected word of a selection such as advisor_mode's "[none] scan-time". */
    static String current(String knob) {
        String text = read(knob).strip();
        int open = text.indexOf('[');
        return open < 0 ? text : text.substring(open + 1, text.indexOf(']'));
    }

    static long counter(String name) {
        return Long.parseLong(read(name).strip());
    }

    private static String read(String file) {
        try {
            return Files.readString(ROOT.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(String knob, String value) {
        try {
            Files.writeString(ROOT.resolve(knob), value);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + value + " to " + ROOT.resolve(knob) + ": " + e.getMessage(), e);
        }
    }

    private synchronized void restore() {
        List<String> knobs = new ArrayList<>(previous.keySet());
        Collections.reverse(knobs);
        for (String knob : knobs) {
            write(knob, previous.get(knob));
        }
        previous.clear();
    }

    /** The knobs set so far, with the values they had before. */
    Map<String, String> previousValues() {
        return Map.copyOf(previous);
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
