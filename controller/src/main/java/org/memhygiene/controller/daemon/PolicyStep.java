package org.memhygiene.controller.daemon;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Function;
import org.memhygiene.controller.policy.Decision;
import org.memhygiene.controller.policy.KnownScrub;
import org.memhygiene.controller.policy.Policy;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.controller.policy.ScrubRequest;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.SourceState;

/**
 * The loop's policy step: every policy interval, the policy decides from the snapshot of the last
 * decision and the current one; unless this is a dry run the KSM settings are applied (all or nothing)
 * and the scrub requests sent, on their own thread since a scrub takes seconds. Every decision is kept,
 * with what was done about it, for GET /api/v1/decisions, and logged with its reason (so `run --dry-run`
 * prints each one). The mode and the dry run can be switched while it runs (PUT /api/v1/policy); the
 * next sample then decides at once with the new policy. Every sample also goes to the policy's
 * {@link Policy#onSample} (the reclaim boost), with the scrubs the policy and the API asked for; what the
 * policy holds only for a while is put back when the mode or the dry run is switched and on close.
 */
public final class PolicyStep implements Consumer<HostSnapshot>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PolicyStep.class.getName());
    private static final int KEPT = 100;
    private static final Duration SCRUB_TIMEOUT = Duration.ofMinutes(10);
    /** The sources whose figures a decision needs fresh. */
    private static final List<String> DECIDES_ON = List.of(SourceState.KSM, SourceState.HOST_MEMORY);

    /** What became of a decision, as a label for metrics. */
    public enum Result {
        APPLIED,
        NOTHING_TO_DO,
        DRY_RUN,
        FAILED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One decision and its outcome: "applied", "dry run: ...", "nothing to do", or why applying failed.
     *
     * @param result the outcome's kind
     */
    public record Record(Instant at, Decision decision, String outcome, Result result) {}

    /**
     * The step's settings now, for GET /api/v1/policy.
     *
     * @param changedAt when the API last switched them; empty while they are the configuration's
     */
    public record State(PolicyMode mode, boolean dryRun, Duration interval, Optional<Instant> changedAt) {}

    private final Function<PolicyMode, Policy> policies;
    private final Consumer<Record> recorder;
    private final Duration interval;
    private final HostBackend backend;
    private final Deque<Record> records = new ArrayDeque<>();
    private final Map<PolicyMode, Map<Result, Long>> counts = new EnumMap<>(PolicyMode.class);
    private final ExecutorService scrubs = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "policy-scrubs");
        thread.setDaemon(true);
        return thread;
    });
    private Policy policy;
    private boolean dryRun;
    private Optional<Instant> changedAt = Optional.empty();
    private boolean decideNext;
    private Optional<HostSnapshot> previous = Optional.empty();
    private Optional<HostSnapshot> latest = Optional.empty();
    /** Scrubs the policy asked for and the API's, reported on other threads, for the policy's next sample. */
    private final Queue<KnownScrub> knownScrubs = new ConcurrentLinkedQueue<>();

    /**
     * @param policy   the policy to start with
     * @param policies a new policy of a mode, for {@link #switchTo}
     * @param recorder gets every decision as it is made (the history); a recorder that throws is logged,
     *                 the decision stands
     */
    public PolicyStep(
            Policy policy,
            Function<PolicyMode, Policy> policies,
            Duration interval,
            HostBackend backend,
            boolean dryRun,
            Consumer<Record> recorder) {
        this.policy = policy;
        this.policies = policies;
        this.recorder = recorder;
        this.interval = interval;
        this.backend = backend;
        this.dryRun = dryRun;
    }

    @Override
    public synchronized void accept(HostSnapshot current) {
        latest = Optional.of(current);
        for (KnownScrub scrub = knownScrubs.poll(); scrub != null; scrub = knownScrubs.poll()) {
            policy.scrubbed(scrub);
        }
        // KSM's or the host memory's figures are stale while their source is down: a decision or a boost step on
        // them would act on what is no longer true. The first sample with both up decides.
        if (DECIDES_ON.stream()
                .anyMatch(name -> current.source(name).filter(s -> !s.up()).isPresent())) {
            return;
        }
        boolean wrote =
                policy.onSample(current).map(d -> act(d, current.sampledAt())).orElse(false);
        if (!decideNext
                && previous.isPresent()
                && current.sampledAt().isBefore(previous.get().sampledAt().plus(interval))) {
            return;
        }
        if (wrote) {
            decideNext = true; // the next sample shows the knobs just written: decide from that one
            return;
        }
        decideNext = false;
        Decision decision = policy.decide(previous, current);
        previous = Optional.of(current);
        act(decision, current.sampledAt());
    }

    /** Applies (unless a dry run), logs, counts and records a decision; true when it wrote KSM knobs. */
    private boolean act(Decision decision, Instant at) {
        String outcome;
        Result result;
        if (decision.changesNothing()) {
            outcome = "nothing to do";
            result = Result.NOTHING_TO_DO;
        } else if (dryRun) {
            outcome = "dry run: nothing written, no scrub asked";
            result = Result.DRY_RUN;
        } else {
            outcome = apply(decision);
            result = outcome.equals("applied") ? Result.APPLIED : Result.FAILED;
        }
        LOG.log(
                System.Logger.Level.INFO,
                decision.mode().label() + ": " + what(decision) + ": " + decision.reason() + " (" + outcome + ")");
        counts.computeIfAbsent(decision.mode(), m -> new EnumMap<>(Result.class))
                .merge(result, 1L, Long::sum);
        Record record = new Record(at, decision, outcome, result);
        synchronized (records) {
            if (records.size() == KEPT) {
                records.removeFirst();
            }
            records.addLast(record);
        }
        try {
            recorder.accept(record);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the decision was not recorded: " + e.getMessage());
        }
        return result == Result.APPLIED && decision.ksm().isPresent();
    }

    /**
     * Asks a VM's agent to scrub on behalf of the API and waits for its report; the policy learns of it at
     * the next sample (the reclaim boost follows a scrub whoever asked for it).
     *
     * @throws org.memhygiene.core.host.HostBackendException as {@link HostBackend#scrub} (no such VM, no agent
     *         channel or not running, the agent failed)
     */
    public ScrubReport scrub(String vmUuid, String vmName, long maxBytes, Duration timeout) {
        ScrubReport report = backend.scrub(vmUuid, maxBytes, timeout);
        knownScrubs.add(new KnownScrub(vmUuid, vmName, KnownScrub.Source.API, report));
        return report;
    }

    private static String what(Decision decision) {
        String ksm = decision.ksm().isEmpty()
                ? "leave KSM as is"
                : "write "
                        + String.join(
                                " ",
                                decision.ksmAsMap().entrySet().stream()
                                        .map(e -> e.getKey() + "=" + e.getValue())
                                        .toList());
        return ksm
                + (decision.scrubs().isEmpty()
                        ? ""
                        : ", scrub "
                                + String.join(
                                        " ",
                                        decision.scrubs().stream()
                                                .map(ScrubRequest::vmName)
                                                .toList()));
    }

    /**
     * Switches the mode and the dry run; a new mode starts a new policy (no history), and the next sample
     * decides at once. Returns the new state.
     */
    public synchronized State switchTo(PolicyMode mode, boolean newDryRun, Instant at) {
        if (mode != policy.mode() || newDryRun != dryRun) {
            // What the policy holds only for a while (the reclaim boost's knobs) goes back before it stops
            // deciding, or before its decisions stop being written.
            release("the policy was switched to " + mode.label() + (newDryRun ? " (dry run)" : ""), at);
        }
        if (mode != policy.mode()) {
            policy = policies.apply(mode);
        }
        decideNext = true;
        dryRun = newDryRun;
        changedAt = Optional.of(at);
        LOG.log(System.Logger.Level.INFO, "policy switched to " + mode.label() + (dryRun ? " (dry run)" : ""));
        return state();
    }

    public synchronized State state() {
        return new State(policy.mode(), dryRun, interval, changedAt);
    }

    /** Decisions so far by mode and result, since the daemon started. */
    public synchronized Map<PolicyMode, Map<Result, Long>> counts() {
        Map<PolicyMode, Map<Result, Long>> copy = new EnumMap<>(PolicyMode.class);
        counts.forEach((mode, byResult) -> copy.put(mode, Map.copyOf(byResult)));
        return copy;
    }

    /** Asks the policy to give back what it holds for a while, judged on a fresh sample where one can be taken. */
    private void release(String why, Instant at) {
        if (latest.isEmpty() || !policy.holdsKnobs()) {
            return;
        }
        HostSnapshot now;
        try {
            now = backend.snapshot();
        } catch (RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "no fresh sample to release the policy's knobs on (" + e.getMessage() + "); using the last one");
            now = latest.get();
        }
        policy.release(now, why).ifPresent(decision -> act(decision, at));
    }

    private String apply(Decision decision) {
        try {
            decision.ksm().ifPresent(backend::applyKsm);
        } catch (RuntimeException e) {
            return "KSM settings not applied: " + e.getMessage();
        }
        for (ScrubRequest request : decision.scrubs()) {
            scrubs.submit(() -> {
                try {
                    knownScrubs.add(new KnownScrub(
                            request.vmUuid(),
                            request.vmName(),
                            KnownScrub.Source.POLICY,
                            backend.scrub(request.vmUuid(), request.maxBytes(), SCRUB_TIMEOUT)));
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.WARNING, "scrub of " + request.vmName() + " failed: " + e.getMessage());
                }
            });
        }
        return "applied";
    }

    /** The latest decisions, oldest first. */
    public List<Record> records() {
        synchronized (records) {
            return List.copyOf(records);
        }
    }

    /** Puts back what the policy holds only for a while (the reclaim boost's knobs), then stops the scrubs. */
    @Override
    public void close() {
        synchronized (this) {
            latest.ifPresent(sample -> release("the daemon is stopping", sample.sampledAt()));
        }
        scrubs.shutdownNow();
    }
}
