package org.memhygiene.bench.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The host side of the suite, which {@code e2e/run.sh --fixture} owns: it takes the KSM lock, installs
 * what the suite needs, builds the guest image and starts virtlogd and libvirtd when they do not run,
 * then answers one line on its standard output, {@code ready<TAB>IMAGE<TAB>STATE} or
 * {@code skip<TAB>REASON} (not root, no KSM). It holds the lock until its standard
 * input closes, which {@link #close} does and this JVM's death does too; its cleanup then destroys every
 * memhygiene-e2e-* domain, stops a tuner whose pid is left in STATE, stops the daemons it started and
 * puts every KSM knob back. Its log (standard error) is copied to this JVM's.
 */
final class HostPreparation implements AutoCloseable {
    private static final Duration CLEANUP_TIMEOUT = Duration.ofMinutes(3);

    private final Process process;
    private final Thread log;
    private final Path image;
    private final Path state;
    private final String skipReason;

    private HostPreparation(Process process, Thread log, Path image, Path state, String skipReason) {
        this.process = process;
        this.log = log;
        this.image = image;
        this.state = state;
        this.skipReason = skipReason;
    }

    /** Starts e2e/run.sh --fixture and waits for its answer (the lock, installing and the image may take minutes). */
    static HostPreparation start(Path repo) throws IOException, InterruptedException {
        return start(List.of(repo.resolve("e2e/run.sh").toString(), "--fixture"), repo);
    }

    /** As above, with the command that runs e2e/run.sh --fixture (under another user, say). */
    static HostPreparation start(List<String> command, Path repo) throws IOException, InterruptedException {
        String script = String.join(" ", command);
        Process process = new ProcessBuilder(command).directory(repo.toFile()).start();
        Thread log = new Thread(
                () -> {
                    try (BufferedReader err = new BufferedReader(
                            new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = err.readLine()) != null; ) {
                            System.err.println(line);
                        }
                    } catch (IOException e) {
                        System.err.println("e2e: lost the log of " + script + ": " + e);
                    }
                },
                "e2e-run.sh-log");
        log.setDaemon(true);
        log.start();
        BufferedReader out =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null) {
            int exit = process.waitFor();
            log.join(10_000);
            throw new IllegalStateException(
                    script + " exited " + exit + " before the host was ready (its log is above)");
        }
        String[] fields = line.split("\t");
        if (fields[0].equals("ready") && fields.length == 3) {
            return new HostPreparation(process, log, Path.of(fields[1]), Path.of(fields[2]), null);
        }
        if (fields[0].equals("skip") && fields.length == 2) {
            process.waitFor();
            log.join(10_000);
            return new HostPreparation(process, log, null, null, fields[1]);
        }
        process.destroy();
        throw new IllegalStateException(
                script + " answered \"" + line + "\"; expected \"ready<TAB>IMAGE<TAB>STATE\" or \"skip<TAB>REASON\"");
    }

    /** Why the suite cannot run on this host, when it cannot. */
    Optional<String> skipReason() {
        return Optional.ofNullable(skipReason);
    }

    /** The guest image's directory (vmlinuz, initrd.img, manifest.txt). */
    Path image() {
        return image;
    }

    /** Where a tuner's pid goes while it runs ({@code NAME.pid}), so that the cleanup can stop one this JVM could not. */
    Path state() {
        return state;
    }

    /** Lets run.sh clean up and waits until it has. */
    @Override
    public void close() throws IOException {
        process.getOutputStream().close();
        try {
            if (!process.waitFor(CLEANUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                throw new IllegalStateException("e2e/run.sh --fixture did not finish its cleanup within "
                        + CLEANUP_TIMEOUT.toMinutes() + " min; sent it SIGTERM");
            }
            log.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while e2e/run.sh --fixture cleaned up (it goes on alone)", e);
        }
    }
}
