package org.memhygiene.controller.libvirt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A real libvirtd for tests that need qemu:///system. Uses the one that runs, if any; otherwise, as
 * root with Debian's libvirt-daemon-system installed (.ci/run installs it), starts one by hand (there is
 * no systemd here) and stops it by its pid afterwards. Empty, with the reason, when neither is possible.
 */
final class LibvirtDaemon implements AutoCloseable {
    static final Path SOCKET = Path.of("/run/libvirt/libvirt-sock");
    private static final Path LIBVIRTD = Path.of("/usr/sbin/libvirtd");

    private final Process started;

    private LibvirtDaemon(Process started) {
        this.started = started;
    }

    /** A running libvirtd, or empty after printing why there is none. */
    static Optional<LibvirtDaemon> ensure(String test) throws IOException, InterruptedException {
        if (Files.exists(SOCKET)) {
            return Optional.of(new LibvirtDaemon(null));
        }
        String why = null;
        if (!Files.isExecutable(LIBVIRTD)) {
            why = LIBVIRTD + " is not installed (Debian: libvirt-daemon-system)";
        } else if (!"root".equals(System.getProperty("user.name"))) {
            why = "starting libvirtd for qemu:///system needs root";
        }
        if (why == null) {
            Files.createDirectories(SOCKET.getParent());
            Process daemon = new ProcessBuilder(LIBVIRTD.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            for (int i = 0; i < 100 && !Files.exists(SOCKET) && daemon.isAlive(); i++) {
                Thread.sleep(100);
            }
            if (Files.exists(SOCKET)) {
                return Optional.of(new LibvirtDaemon(daemon));
            }
            daemon.destroyForcibly();
            why = "libvirtd did not create " + SOCKET + " within 10 s";
        }
        System.out.println(test + " skipped: " + why);
        return Optional.empty();
    }

    @Override
    public void close() throws InterruptedException {
        if (started != null) {
            started.destroy(); // SIGTERM: libvirtd removes its socket and pid file
            if (!started.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                started.destroyForcibly();
            }
        }
    }
}
