package org.memhygiene.controller.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.memhygiene.controller.api.ApiServer;
import org.memhygiene.controller.history.History;
import org.memhygiene.controller.metrics.HostMetrics;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.probe.ProbeRunner;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.secret.SecretMemory;

/**
 * The daemon assembled over any {@link HostBackend}: the snapshot loop, the policy step, the history and
 * the HTTP API with its metrics. {@code memhygiene run} starts one on the Linux host; the dashboard
 * starts one in-process on a simulated host, so both are served by the same code.
 */
public final class Daemon implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Daemon.class.getName());

    private final HostBackend host;
    private final History history;
    private final PolicyConfig policyConfig;
    private final PolicyStep policy;
    private final SnapshotLoop loop;
    private final ApiServer api;
    private final Optional<SecretMemory> apiToken;

    private final ProbeRunner probes;

    private Daemon(
            HostBackend host,
            History history,
            PolicyConfig policyConfig,
            PolicyStep policy,
            SnapshotLoop loop,
            ProbeRunner probes,
            ApiServer api,
            Optional<SecretMemory> apiToken) {
        this.probes = probes;
        this.host = host;
        this.history = history;
        this.policyConfig = policyConfig;
        this.policy = policy;
        this.loop = loop;
        this.api = api;
        this.apiToken = apiToken;
    }

    /**
     * Takes the first sample, opens the API and starts the loop. The daemon owns {@code host} from here on,
     * also when starting fails.
     *
     * @throws IllegalArgumentException for a configuration that cannot work (bad policy file, token, bind address)
     * @throws IllegalStateException    when the history database cannot be opened, or no memory can be locked for the token
     */
    public static Daemon start(HostBackend host, DaemonConfig settings, boolean dryRun, Clock clock) {
        History history = null;
        Optional<SecretMemory> apiToken = Optional.empty();
        try {
            PolicyConfig policyConfig;
            try {
                policyConfig = settings.policyFile().map(PolicyConfig::load).orElse(PolicyConfig.defaults());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("policy " + e.getMessage(), e);
            }
            try {
                Files.createDirectories(settings.historyPath().toAbsolutePath().getParent());
                history = new History(
                        settings.historyPath(), settings.historyRetention(), settings.historyInterval(), clock);
            } catch (IOException | IllegalStateException e) {
                throw new IllegalStateException("history " + settings.historyPath() + ": " + e.getMessage(), e);
            }
            History recorded = history;
            PolicyConfig configured = policyConfig;
            PolicyStep policy = new PolicyStep(
                    policyConfig.policy(),
                    mode -> configured.withMode(mode).policy(),
                    policyConfig.interval(),
                    host,
                    settings.dryRun() || dryRun,
                    r -> recorded.recordDecision(
                            r.at(), r.decision(), r.outcome(), r.result().name()));
            ProbeRunner probes = new ProbeRunner(host, clock);
            PostureScorer posture = PostureScorer.of(host, probes::latest);
            // Posture is scored on every sample (cheap; the history, the stream and the metrics reuse the result).
            SnapshotLoop loop = new SnapshotLoop(
                    host,
                    settings.interval(),
                    clock,
                    List.of(policy, posture::score, snapshot -> recorded.record(snapshot, posture.score(snapshot))));
            HostMetrics metrics = new HostMetrics(
                    loop::latest,
                    loop::status,
                    posture,
                    policy,
                    policyConfig.adaptive().cpuBudgetPercent(),
                    probes::latest);
            apiToken = settings.apiToken();
            // Which protection the token got is an admin's question (memfd_secret, or the mlock fallback and why).
            apiToken.ifPresent(token -> LOG.log(
                    System.Logger.Level.INFO,
                    "api.token_file " + settings.apiTokenFile().orElseThrow() + ": the token is held in "
                            + token.protection().summary()));
            ApiServer api = new ApiServer(
                    loop,
                    posture,
                    policy,
                    probes,
                    settings.apiBind(),
                    settings.apiPort(),
                    apiToken,
                    metrics::scrape,
                    Map.of(
                            "history",
                            query -> HistoryQuery.view(recorded, query),
                            "history/decisions",
                            query -> HistoryQuery.decisions(recorded, query),
                            "decisions",
                            query -> policy.records()));
            loop.tick(); // the first sample before the API opens, so it never answers "no snapshot yet" for long
            api.start();
            loop.start();
            return new Daemon(host, recorded, policyConfig, policy, loop, probes, api, apiToken);
        } catch (RuntimeException e) {
            apiToken.ifPresent(SecretMemory::close);
            if (history != null) {
                history.close();
            }
            host.close();
            throw e;
        }
    }

    /** The port the API listens on (the configured one, or the one the system chose for port 0). */
    public int apiPort() {
        return api.port();
    }

    public SnapshotLoop loop() {
        return loop;
    }

    /** The daemon's deduplication probes (POST /api/v1/probes/dedup). */
    public ProbeRunner probes() {
        return probes;
    }

    public PolicyStep policy() {
        return policy;
    }

    public PolicyConfig policyConfig() {
        return policyConfig;
    }

    public HostBackend host() {
        return host;
    }

    @Override
    public void close() {
        api.close();
        probes.close();
        loop.close();
        policy.close();
        host.close();
        history.close();
        apiToken.ifPresent(SecretMemory::close);
    }
}
