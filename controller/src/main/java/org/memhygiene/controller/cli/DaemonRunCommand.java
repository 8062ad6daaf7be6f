package org.memhygiene.controller.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.controller.daemon.DaemonConfig;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.linux.LinuxProcess;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "The daemon: samples KSM, libvirt and the agents every interval and serves the HTTP API"
                + " (docs/API.md) until stopped (SIGTERM, Ctrl-C).")
final class DaemonRunCommand implements Callable<Integer> {
    private final Function<Path, HostBackend> scenarios;
    /** Nothing for group or others: directories 0700, files 0600. */
    static final int PRIVATE_FILES_UMASK = 0077;

    @Mixin
    CommandOutput output;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description =
                    "The daemon's configuration (default: built-in defaults; see controller/src/main/dist/memhygiene.yaml).")
    Path config;

    @Option(names = "--dry-run", description = "Decide and explain, change nothing (overrides the file's dry_run).")
    boolean dryRun;

    @Option(
            names = "--scenario",
            paramLabel = "FILE",
            description = "Run on a simulated host from this scenario instead of libvirt (docs/SIMULATOR.md).")
    Path scenario;

    /** @param scenarios opens a scenario file as a simulated host (the simulator's, given by the command module) */
    DaemonRunCommand(Function<Path, HostBackend> scenarios) {
        this.scenarios = scenarios;
    }

    @Override
    public Integer call() throws InterruptedException {
        DaemonConfig settings;
        try {
            settings = config == null ? DaemonConfig.defaults() : DaemonConfig.load(config);
            settings.apiToken()
                    .ifPresent(token -> token.close()); // a bad token file is a usage error, before anything starts
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(output.commandLine(), "config " + e.getMessage());
        }
        // What the daemon creates (the state directory, the history database and H2's files beside it)
        // is its owner's alone whatever umask it was started with, as memhygiene.service's UMask=0077
        // makes it under systemd (docs/HISTORY.md).
        LinuxProcess.umask(PRIVATE_FILES_UMASK);
        PrintWriter err = output.err();
        HostBackend backend;
        if (scenario != null) {
            try {
                backend = scenarios.apply(scenario);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(output.commandLine(), "scenario " + e.getMessage());
            }
        } else {
            backend = LinuxHost.of(
                    settings.libvirtUri(), settings.agentTimeout(), settings.agentInterval(), settings.guestMemory());
        }
        Daemon daemon;
        try {
            daemon = Daemon.start(backend, settings, dryRun, Clock.systemUTC());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
        }
        err.printf(
                "memhygiene: daemon on %s, sampling every %d ms, %s policy every %d s%s; API on http://%s:%d/api/v1%n",
                daemon.host().describe(),
                settings.interval().toMillis(),
                daemon.policyConfig().mode().name().toLowerCase(Locale.ROOT),
                daemon.policyConfig().interval().toSeconds(),
                settings.dryRun() || dryRun ? " (dry run)" : "",
                settings.apiBind(),
                daemon.apiPort());
        err.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            daemon.close();
                            stopped.countDown();
                        },
                        "memhygiene-shutdown"));
        stopped.await();
        return 0;
    }
}
