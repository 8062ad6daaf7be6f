package org.memhygiene.agent.scrub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalDouble;

/**
 * Reads the guest's memory state from a /proc tree: the real /proc, or a prepared directory in tests.
 */
final class ProcMemory {
    private final Path meminfo;
    private final Path memoryPressure;
    private final Path cmdline;

    ProcMemory(Path procRoot) {
        this.meminfo = procRoot.resolve("meminfo");
        this.memoryPressure = procRoot.resolve("pressure/memory");
        this.cmdline = procRoot.resolve("cmdline");
    }

    MemInfo memInfo() {
        return MemInfo.parse(read(meminfo), meminfo.toString());
    }

    /**
     * The share of the last 10 s in which at least one task stalled on memory, in percent: "some avg10"
     * of Documentation/accounting/psi.rst. Absent when the kernel has no PSI (file missing) or it is
     * disabled with psi=0 (reading fails with EOPNOTSUPP).
     */
    OptionalDouble memorySomeAvg10Percent() {
        String text;
        try {
            text = new String(Files.readAllBytes(memoryPressure), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return OptionalDouble.empty();
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("not supported")) {
                return OptionalDouble.empty();
            }
            throw new UncheckedIOException("cannot read " + memoryPressure, e);
        }
        for (String line : text.split("\n")) {
            if (line.startsWith("some ")) {
                for (String field : line.split(" ")) {
                    if (field.startsWith("avg10=")) {
                        try {
                            return OptionalDouble.of(Double.parseDouble(field.substring("avg10=".length())));
                        } catch (NumberFormatException e) {
                            break;
                        }
                    }
                }
                throw new IllegalStateException(memoryPressure + ": expected \"some avg10=N.NN ...\", got \"" + line + "\"");
            }
        }
        throw new IllegalStateException(memoryPressure + ": expected a line starting \"some \", got \"" + text.strip() + "\"");
    }

    /**
     * Whether the guest kernel was booted with init_on_free on. The parameter is parsed with kstrtobool
     * and the last occurrence wins (mm/mm_init.c early_init_on_free, lib/kstrtox.c). A kernel built with
     * CONFIG_INIT_ON_FREE_DEFAULT_ON=y has it on without a parameter: that is not visible here.
     */
    boolean initOnFree() {
        String text;
        try {
            text = read(cmdline);
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException) {
                return false;
            }
            throw e;
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
            case 'y': case 't': case '1':
                return true;
            case 'n': case 'f': case '0':
                return false;
            case 'o':
                return lower.startsWith("on") ? Boolean.TRUE : lower.startsWith("of") ? Boolean.FALSE : null;
            default:
                return null;
        }
    }

    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
