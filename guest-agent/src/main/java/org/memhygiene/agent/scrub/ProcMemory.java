package org.memhygiene.agent.scrub;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalDouble;

/**
 * Reads the guest's memory state from a /proc tree: the real /proc, or a prepared directory in tests.
 * Files are opened afresh on every read (a prepared tree is rewritten by rename) into one reused buffer;
 * the methods are synchronized because scrubs and trigger samples read from different threads.
 */
public final class ProcMemory {
    /** /proc/meminfo is about 1.5 KiB and pressure/memory about 100 bytes. */
    private static final int BUFFER_BYTES = 16 * 1024;

    private final Path meminfo;
    private final Path memoryPressure;
    private final Path cmdline;
    private final byte[] buffer = new byte[BUFFER_BYTES];

    public ProcMemory(Path procRoot) {
        this.meminfo = procRoot.resolve("meminfo");
        this.memoryPressure = procRoot.resolve("pressure/memory");
        this.cmdline = procRoot.resolve("cmdline");
    }

    public synchronized MemInfo memInfo() {
        try {
            return MemInfo.parse(buffer, read(meminfo), meminfo.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + meminfo, e);
        }
    }

    /**
     * The share of the last 10 s in which at least one task stalled on memory, in percent: "some avg10"
     * of Documentation/accounting/psi.rst. Absent when the kernel has no PSI (file missing) or it is
     * disabled with psi=0 (reading fails with EOPNOTSUPP).
     */
    synchronized OptionalDouble memorySomeAvg10Percent() {
        int length;
        try {
            length = read(memoryPressure);
        } catch (NoSuchFileException e) {
            return OptionalDouble.empty();
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("not supported")) {
                return OptionalDouble.empty();
            }
            throw new UncheckedIOException("cannot read " + memoryPressure, e);
        }
        int line = ProcText.lineStarting(buffer, length, "some ");
        if (line < 0) {
            throw new IllegalStateException(memoryPressure + ": expected a line starting \"some \", got \""
                    + new String(buffer, 0, length, StandardCharsets.US_ASCII).strip() + "\"");
        }
        int value = line + "some ".length();
        if (ProcText.startsWith(buffer, length, value, "avg10=")) {
            value += "avg10=".length();
            int end = value;
            while (end < length && (buffer[end] == '.' || (buffer[end] >= '0' && buffer[end] <= '9'))) {
                end++;
            }
            try {
                return OptionalDouble.of(
                        Double.parseDouble(new String(buffer, value, end - value, StandardCharsets.US_ASCII)));
            } catch (NumberFormatException e) {
                // reported below with the whole line
            }
        }
        throw new IllegalStateException(memoryPressure + ": expected \"some avg10=N.NN ...\", got \""
                + ProcText.lineAt(buffer, length, line) + "\"");
    }

    /**
     * Whether the guest kernel was booted with init_on_free on. The parameter is parsed with kstrtobool
     * and the last occurrence wins (mm/mm_init.c early_init_on_free, lib/kstrtox.c). A kernel built with
     * CONFIG_INIT_ON_FREE_DEFAULT_ON=y has it on without a parameter: that is not visible here.
     */
    boolean initOnFree() {
        String text;
        try {
            text = Files.readString(cmdline, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + cmdline, e);
        }
        boolean on = false;
        for (String token : text.trim().split("\\s+")) {
            if (token.equals("--")) {
                break; // what follows "--" goes to init, not to the kernel
            }
            if (token.startsWith("init_on_free=")) {
                Boolean value = kstrtobool(token.substring("init_on_free=".length()));
                if (value != null) {
                    on = value; // an unparsable value leaves the setting as it was, as the kernel does
                }
            }
        }
        return on;
    }

    /** lib/kstrtox.c kstrtobool: y/t/1/on are true, n/f/0/off false, judged by the first one or two characters. */
    private static Boolean kstrtobool(String value) {
        String lower = value.toLowerCase();
        if (lower.isEmpty()) {
            return null;
        }
        switch (lower.charAt(0)) {
            case 'y':
            case 't':
            case '1':
                return true;
            case 'n':
            case 'f':
            case '0':
                return false;
            case 'o':
                return lower.startsWith("on") ? Boolean.TRUE : lower.startsWith("of") ? Boolean.FALSE : null;
            default:
                return null;
        }
    }

    /** Reads the whole file into {@link #buffer}; returns its length. */
    private int read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            int length = 0;
            for (int n; length < buffer.length && (n = in.read(buffer, length, buffer.length - length)) > 0; ) {
                length += n;
            }
            if (length == buffer.length) {
                throw new IllegalStateException(file + ": expected under " + BUFFER_BYTES + " bytes");
            }
            return length;
        }
    }
}
