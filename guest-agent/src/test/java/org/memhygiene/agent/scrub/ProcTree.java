package org.memhygiene.agent.scrub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A prepared /proc tree (meminfo, pressure/memory, cmdline) that tests rewrite while a scrub reads it. */
final class ProcTree {
    static final long MIB = 1024L * 1024L;
    static final long GIB = 1024L * MIB;

    final Path root;

    ProcTree(Path root) {
        this.root = root;
        try {
            Files.createDirectories(root.resolve("pressure"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        cmdline("console=ttyS0 quiet");
        pressure(0.0);
    }

    ProcTree meminfo(long totalBytes, long availableBytes) {
        write(
                "meminfo",
                "MemTotal:       " + totalBytes / 1024 + " kB\n"
                        + "MemFree:        " + availableBytes / 1024 + " kB\n"
                        + "MemAvailable:   " + availableBytes / 1024 + " kB\n"
                        + "Buffers:              0 kB\n");
        return this;
    }

    ProcTree pressure(double someAvg10) {
        write(
                "pressure/memory",
                String.format(
                        "some avg10=%.2f avg60=0.00 avg300=0.00 total=1%n"
                                + "full avg10=0.00 avg60=0.00 avg300=0.00 total=0%n",
                        someAvg10));
        return this;
    }

    ProcTree cmdline(String line) {
        write("cmdline", line + "\n");
        return this;
    }

    /** Written beside and renamed over, so a scrub never reads half a file. */
    void write(String name, String text) {
        try {
            Path target = root.resolve(name);
            Path temporary = Files.createTempFile(root, "next", ".tmp");
            Files.writeString(temporary, text);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
