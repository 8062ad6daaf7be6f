package org.memhygiene.controller.libvirt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real libvirtd for tests that need qemu:///system. Uses the one that runs, if any; otherwise, as
 * root with Debian's libvirt-daemon-system installed (.ci/run installs it), starts one by hand (there is
 * no systemd here) and stops it by its pid afterwards. Empty, with the reason, when neither is possible.
 */
public final class LibvirtDaemon implements AutoCloseable {
    static final Path SOCKET = Path.of("/run/libvirt/libvirt-sock");
    private static final Path LIBVIRTD = Path.of("/usr/sbin/libvirtd");

    private Process started;

    private LibvirtDaemon(Process started) {
        this.started = started;
    }

    /** A running libvirtd, or empty after printing why there is none. */
    public static Optional<LibvirtDaemon> ensure(String test) throws IOException, InterruptedException {
        if (Files.exists(SOCKET)) {
            return Optional.of(new LibvirtDaemon(null));
        }
        return startOwn(test);
    }

    /**
     * A libvirtd this test starts and owns (for a test that stops it: it never stops one it did not start),
     * or empty after printing why there is none: one runs already, not root, not installed, or it did not start.
     */
    static Optional<LibvirtDaemon> startOwn(String test) throws IOException, InterruptedException {
        String why = null;
        if (Files.exists(SOCKET)) {
            why = "a libvirtd this test did not start runs (" + SOCKET + "); it is not stopped by a test";
        } else if (!Files.isExecutable(LIBVIRTD)) {
            why = LIBVIRTD + " is not installed (Debian: libvirt-daemon-system)";
        } else if (!"root".equals(System.getProperty("user.name"))) {
            why = "starting libvirtd for qemu:///system needs root";
        }
        if (why == null) {
            Optional<Process> daemon = startProcess();
            if (daemon.isPresent()) {
                return Optional.of(new LibvirtDaemon(daemon.get()));
            }
            why = "libvirtd did not create " + SOCKET + " within 10 s";
        }
        System.out.println(test + " skipped: " + why);
        return Optional.empty();
    }

    private static Optional<Process> startProcess() throws IOException, InterruptedException {
        Files.createDirectories(SOCKET.getParent());
        Process daemon = new ProcessBuilder(LIBVIRTD.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        for (int i = 0; i < 100 && !Files.exists(SOCKET) && daemon.isAlive(); i++) {
            Thread.sleep(100);
        }
        if (Files.exists(SOCKET) && daemon.isAlive()) {
            return Optional.of(daemon);
        }
        daemon.destroyForcibly();
        return Optional.empty();
    }

    /** SIGKILL, as a crash: no goodbye to clients, the socket file is left behind. Only a libvirtd this test started. */
    void kill() throws InterruptedException {
        if (started == null) {
            throw new IllegalStateException("this libvirtd was not started by the test: it is not the test's to kill");
        }
        started.destroyForcibly().waitFor();
        started = null;
    }

    /** Starts it again after {@link #kill()}; returns when it listens. */
    void restart() throws IOException, InterruptedException {
        Files.deleteIfExists(
                SOCKET); // the killed one's; libvirtd would refuse a socket that is in use, not a stale one
        started = startProcess().orElseThrow(() -> new IllegalStateException("libvirtd did not come back within 10 s"));
    }

    @Override
    public void close() throws InterruptedException {
        if (started != null) {
            started.destroy(); // SIGTERM: libvirtd removes its socket and pid file
            if (!started.waitFor(10, TimeUnit.SECONDS)) {
                started.destroyForcibly();
            }
        }
    }
}
