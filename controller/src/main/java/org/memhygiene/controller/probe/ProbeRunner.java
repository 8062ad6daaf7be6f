package org.memhygiene.controller.probe;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;

/**
 * The daemon's deduplication probes: one at a time, on a thread of their own (a probe waits minutes for
 * ksmd's full scans; the sample loop and the API go on meanwhile), the latest report kept for posture, the
 * metrics and GET /api/v1/probes/dedup.
 */
public final class ProbeRunner implements AutoCloseable {
    /**
     * The state of the daemon's probes (the document of GET /api/v1/probes/dedup).
     *
     * @param status     {@code none} (never run), {@code running}, {@code done} or {@code failed}
     * @param request    the running or last probe's request
     * @param startedAt  when it started
     * @param report     the last completed probe's report (kept while the next runs)
     * @param error      why the last probe failed (a VM that does not exist, libvirt down)
     */
    public record State(
            String status,
            Optional<DedupProbeRequest> request,
            Optional<Instant> startedAt,
            Optional<DedupProbeReport> report,
            Optional<String> error) {}

    private final HostBackend host;
    private final Clock clock;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "memhygiene-probe");
        t.setDaemon(true);
        return t;
    });
    private State state = new State("none", Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

    public ProbeRunner(HostBackend host, Clock clock) {
        this.host = host;
        this.clock = clock;
    }

    /**
     * Starts a probe unless one runs.
     *
     * @throws IllegalStateException when a probe runs already
     */
    public synchronized State start(DedupProbeRequest request) {
        if (state.status().equals("running")) {
            throw new IllegalStateException("a deduplication probe runs already (started "
                    + state.startedAt().orElseThrow() + "); one at a time: wait for it");
        }
        state = new State(
                "running", Optional.of(request), Optional.of(clock.instant()), state.report(), Optional.empty());
        thread.execute(() -> {
            try {
                DedupProbeReport report = host.probeDedup(request);
                finish(new State(
                        "done", Optional.of(request), state().startedAt(), Optional.of(report), Optional.empty()));
            } catch (RuntimeException e) {
                finish(new State(
                        "failed",
                        Optional.of(request),
                        state().startedAt(),
                        state().report(),
                        Optional.of(String.valueOf(e.getMessage()))));
            }
        });
        return state;
    }

    private synchronized void finish(State done) {
        state = done;
    }

    public synchronized State state() {
        return state;
    }

    /** The last completed probe's report, for posture and the metrics. */
    public Optional<DedupProbeReport> latest() {
        return state().report();
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
