package org.memhygiene.secret;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Whether this JVM's heap holds a secret, asked without the test ever holding it: the shell makes the secret
 * into a file, the heap is dumped (every object, reachable or not), and grep reads the secret from its file
 * to search the dump. For the tests of every module that keeps a secret (secret-memory's test jar).
 */
public final class HeapSearch {
    private HeapSearch() {}

    /** 24 random bytes from /dev/urandom as 48 hex digits and a newline, written by the shell to a file only its owner may read. */
    public static Path randomHexToken(Path file) throws IOException, InterruptedException {
        Process make = new ProcessBuilder(
                        "sh",
                        "-c",
                        "umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n' > \"$1\";" + " echo >> \"$1\"",
                        "sh",
                        file.toString())
                .inheritIO()
                .start();
        if (!make.waitFor(60, TimeUnit.SECONDS) || make.exitValue() != 0 || Files.size(file) != 49) {
            throw new IOException("could not make a random token in " + file);
        }
        return file;
    }

    /** Dumps this JVM's heap into {@code directory} and tells whether it holds the first line of {@code secretFile}. */
    public static boolean heapHolds(Path secretFile, Path directory) throws IOException, InterruptedException {
        Path dump = Files.createTempFile(directory, "heap-", ".hprof");
        Files.delete(dump); // dumpHeap refuses to overwrite
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpHeap(dump.toString(), false);
            Process grep = new ProcessBuilder(
                            List.of("grep", "-q", "-a", "-F", "-f", secretFile.toString(), dump.toString()))
                    .inheritIO()
                    .start();
            if (!grep.waitFor(300, TimeUnit.SECONDS) || grep.exitValue() > 1) {
                throw new IOException("grep failed on " + dump);
            }
            return grep.exitValue() == 0;
        } finally {
            Files.deleteIfExists(dump);
        }
    }
}
