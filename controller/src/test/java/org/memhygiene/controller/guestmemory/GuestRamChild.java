package org.memhygiene.controller.guestmemory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real process whose memory the tests put into known states: guest_ram_child.c (test resources),
 * compiled with gcc once per test JVM. Each call sends one command and waits for its "ok". Public for
 * the pagemap pass benchmark (bench module).
 */
public final class GuestRamChild implements AutoCloseable {
    private static Path binary;

    private final Process process;
    private final BufferedReader out;
    private final Writer in;

    private GuestRamChild(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    /**
     * Starts a child; skips the test where gcc is missing (JUnit's assumption: the benchmark checks for gcc
     * first). {@code arguments} go on its command line, where it ignores them: e.g. QEMU's
     * {@code -name guest=NAME}, so that a QEMU process locator takes it for a domain's QEMU.
     */
    public static GuestRamChild start(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(binary().toString()));
        command.addAll(List.of(arguments));
        return new GuestRamChild(new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start());
    }

    private static synchronized Path binary() throws IOException, InterruptedException {
        if (binary == null) {
            if (!onPath("gcc")) {
                // Resolved only here: the benchmark, which has no JUnit, checks for gcc before it starts.
                Assumptions.assumeTrue(
                        false, "skipped: needs gcc to build the test's child process (.ci/run installs it)");
            }
            Path dir = Files.createTempDirectory("memhygiene-guestram");
            dir.toFile().deleteOnExit();
            Path source = dir.resolve("guest_ram_child.c");
            try (InputStream resource = GuestRamChild.class.getResourceAsStream("/guestmemory/guest_ram_child.c")) {
                Files.copy(resource, source);
            }
            Path built = dir.resolve("guest_ram_child");
            Process gcc = new ProcessBuilder(
                            "gcc", "-O2", "-Wall", "-Werror", "-o", built.toString(), source.toString())
                    .redirectErrorStream(true)
                    .start();
            String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (gcc.waitFor() != 0) {
                throw new IllegalStateException("gcc failed to build " + source + ":\n" + output);
            }
            built.toFile().deleteOnExit();
            source.toFile().deleteOnExit();
            binary = built;
        }
        return binary;
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    public int pid() {
        return (int) process.pid();
    }

    /** A fenced region of {@code pages}; its start address. */
    public long map(long pages, boolean hugepage) throws IOException {
        String[] reply =
                send("map " + pages + (hugepage ? " hugepage" : " small")).split(" ");
        return Long.parseUnsignedLong(reply[2], 16);
    }

    public void unique(int region, long first, long count, long seed) throws IOException {
        send("unique " + region + " " + first + " " + count + " " + seed);
    }

    public void same(int region, long first, long count, long seed) throws IOException {
        send("same " + region + " " + first + " " + count + " " + seed);
    }

    public void zero(int region, long first, long count) throws IOException {
        send("zero " + region + " " + first + " " + count);
    }

    public void read(int region, long first, long count) throws IOException {
        send("read " + region + " " + first + " " + count);
    }

    public void dontNeed(int region, long first, long count) throws IOException {
        send("dontneed " + region + " " + first + " " + count);
    }

    public void mergeable(int region) throws IOException {
        send("mergeable " + region);
    }

    public void unmap(int region) throws IOException {
        send("unmap " + region);
    }

    /** VmRSS from /proc/PID/status, in bytes. */
    public long vmRssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).replace("kB", "").trim()) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid());
    }

    /**
     * The resident bytes of the mappings in [{@code start}, {@code start + bytes}): the Rss of each of
     * those VMAs in /proc/PID/smaps. Not VmRSS: that also counts the child's own code and libc pages,
     * which a command run for the first time faults in (fault-around maps up to 16 at once).
     */
    public long rssBytes(long start, long bytes) throws IOException {
        long end = start + bytes;
        long total = 0;
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/smaps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).matches("[0-9a-f]+")) {
                long low = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long high = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = Long.compareUnsigned(low, end) < 0 && Long.compareUnsigned(high, start) > 0;
            } else if (inside && line.startsWith("Rss:")) {
                total += Long.parseLong(line.substring(4).replace("kB", "").trim()) * 1024;
            }
        }
        return total;
    }

    private String send(String command) throws IOException {
        in.write(command + "\n");
        in.flush();
        String reply = out.readLine();
        if (reply == null || !reply.startsWith("ok")) {
            throw new IllegalStateException("child answered '" + reply + "' to '" + command + "'");
        }
        return reply;
    }

    /** Ends the child (closing its input) and waits for it. */
    @Override
    public void close() throws IOException {
        in.close();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
