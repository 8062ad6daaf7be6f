package org.memhygiene.ui;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.ui.model.SourceBreakdown;

/**
 * The controller the dashboard starts for itself in built-in mode: the real {@link Daemon} (loop,
 * policy, history, API) on loopback, on a free port, with its history in a temporary directory, over
 * a simulated host. The dashboard then talks to it exactly as to a remote one.
 */
public final class BuiltinController implements AutoCloseable {
    private final Daemon daemon;
    private final Path historyDir;
    private final SourceBreakdown breakdown;
    private final String description;

    private BuiltinController(Daemon daemon, Path historyDir, SourceBreakdown breakdown, String description) {
        this.daemon = daemon;
        this.historyDir = historyDir;
        this.breakdown = breakdown;
        this.description = description;
    }

    /**
     * @param scenario the user's scenario file; empty: the shipped demo scenario
     * @param speed    simulated seconds per real second
     * @param interval the daemon's sampling interval (real time)
     */
    public static BuiltinController start(Optional<Path> scenario, double speed, Duration interval) {
        HostBackend host = LinuxHost.of("test:///default", Duration.ofSeconds(2), Duration.ofSeconds(5));
        return start(host, interval, SourceBreakdown.FROM_API, true);
    }

    static BuiltinController start(HostBackend host, Duration interval, SourceBreakdown breakdown, boolean dryRun) {
        Path dir;
        try {
            dir = Files.createTempDirectory("memhygiene-dashboard-");
        } catch (IOException e) {
            host.close();
            throw new IllegalStateException("cannot create a temporary directory for the built-in controller's history: " + e.getMessage(), e);
        }
        DaemonConfig d = DaemonConfig.defaults();
        DaemonConfig config = new DaemonConfig(d.libvirtUri(), interval, d.agentTimeout(), d.agentInterval(), "127.0.0.1", 0,
                Optional.empty(), dryRun, dir.resolve("history"), d.historyRetention(), d.historyInterval(), Optional.empty());
        String description = host.describe();
        try {
            return new BuiltinController(Daemon.start(host, config, dryRun, Clock.systemUTC()), dir, breakdown, description);
        } catch (RuntimeException e) {
            delete(dir);
            throw e;
        }
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + daemon.apiPort());
    }

    public Daemon daemon() {
        return daemon;
    }

    public SourceBreakdown breakdown() {
        return breakdown;
    }

    public String description() {
        return description;
    }

    @Override
    public void close() {
        try {
            daemon.close();
        } finally {
            delete(historyDir);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }
}
