package org.memhygiene.ui;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.Stream;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.simulator.scenario.Scenario;
import org.memhygiene.ui.model.Reclaimed;
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
    private final Optional<Scenario> frontierScenario;

    private BuiltinController(
            Daemon daemon,
            Path historyDir,
            SourceBreakdown breakdown,
            String description,
            Optional<Scenario> frontierScenario) {
        this.frontierScenario = frontierScenario;
        this.daemon = daemon;
        this.historyDir = historyDir;
        this.breakdown = breakdown;
        this.description = description;
    }

    /**
     * @param scenario the user's scenario file; empty: the shipped demo scenario
     * @param speed    simulated seconds per real second; empty: the scenario's own
     * @param interval the daemon's sampling interval (real time)
     * @throws org.memhygiene.simulator.ScenarioException for a scenario file that is not valid
     */
    public static BuiltinController start(Optional<Path> scenario, OptionalDouble speed, Duration interval) {
        SimulatedHost host;
        if (speed.isPresent()) {
            host = scenario.map(file -> SimulatedHost.load(file, Clock.systemUTC(), speed.getAsDouble()))
                    .orElseGet(() -> SimulatedHost.builtin(Clock.systemUTC(), speed.getAsDouble()));
        } else {
            host = scenario.map(SimulatedHost::load).orElseGet(SimulatedHost::builtin);
        }
        // The policy starts in dry run, so the scenario's own KSM settings show first; Controls switches it.
        return start(host, interval, true);
    }

    /**
     * Over {@code host} (the controller's policy acts on it unless {@code dryRun}); what each VM reclaims
     * comes from the simulator itself.
     */
    public static BuiltinController start(SimulatedHost host, Duration interval, boolean dryRun) {
        return start(host, interval, dryRun, 0);
    }

    /**
     * As {@link #start(SimulatedHost, Duration, boolean)}, on {@code port} (0: any free one). What the
     * dashboard needs of the simulator besides the seam is taken here, typed: the reclaimed memory by source
     * and the scenario the frontier sweeps.
     */
    public static BuiltinController start(SimulatedHost host, Duration interval, boolean dryRun, int port) {
        return start(host, interval, exposureOf(host), dryRun, port, Optional.of(host.scenario()));
    }

    /** Reclaimed memory by source as the simulator knows it (SimulatedHost.exposure()), not estimated. */
    static SourceBreakdown exposureOf(SimulatedHost host) {
        return (view, vms) -> {
            Exposure exposure = host.exposure();
            Map<String, Reclaimed> perVm = new HashMap<>();
            Reclaimed total = Reclaimed.NONE;
            for (Exposure.VmReclaim vm : exposure.vms()) {
                Reclaimed r = new Reclaimed(vm.sharingBytes(), vm.zeroPageBytes(), vm.freePageReportingBytes());
                perVm.put(vm.uuid(), r);
                total = total.plus(r);
            }
            return new SourceBreakdown.Result(total, perVm);
        };
    }

    /** Over any backend, e.g. a libvirt host; {@code breakdown} says where reclaimed memory comes from. */
    public static BuiltinController start(
            HostBackend host, Duration interval, SourceBreakdown breakdown, boolean dryRun, int port) {
        return start(host, interval, breakdown, dryRun, port, Optional.empty());
    }

    private static BuiltinController start(
            HostBackend host,
            Duration interval,
            SourceBreakdown breakdown,
            boolean dryRun,
            int port,
            Optional<Scenario> frontierScenario) {
        Path dir;
        try {
            dir = Files.createTempDirectory("memhygiene-dashboard-");
        } catch (IOException e) {
            host.close();
            throw new IllegalStateException(
                    "cannot create a temporary directory for the built-in controller's history: " + e.getMessage(), e);
        }
        DaemonConfig d = DaemonConfig.defaults();
        DaemonConfig config = new DaemonConfig(
                d.libvirtUri(),
                interval,
                d.agentTimeout(),
                d.agentInterval(),
                "127.0.0.1",
                port,
                Optional.empty(),
                dryRun,
                dir.resolve("history"),
                d.historyRetention(),
                d.historyInterval(),
                Optional.empty());
        String description = host.describe();
        try {
            return new BuiltinController(
                    Daemon.start(host, config, dryRun, Clock.systemUTC()),
                    dir,
                    breakdown,
                    description,
                    frontierScenario);
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

    /** The scenario whose policy frontier the dashboard shows: the simulated host's; empty on any other host. */
    public Optional<Scenario> frontierScenario() {
        return frontierScenario;
    }

    /** What the dashboard's status line names as its source: the simulated host and this controller. */
    public String source() {
        return "built-in " + description + ", controller in-process at " + url();
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
