package org.memhygiene.controller.daemon;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.controller.policy.Decision;
import org.memhygiene.controller.policy.Policy;
import org.memhygiene.controller.policy.ScrubRequest;
import org.memhygiene.core.host.HostSnapshot;

/**
 * The loop's policy step: every policy interval, the policy decides from the snapshot of the last
 * decision and the current one; unless this is a dry run the KSM settings are applied (all or nothing)
 * and the scrub requests sent, on their own thread since a scrub takes seconds. Every decision is kept,
 * with what was done about it, for GET /api/v1/decisions.
 */
public final class PolicyStep implements Consumer<HostSnapshot>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PolicyStep.class.getName());
    private static final int KEPT = 100;
    private static final Duration SCRUB_TIMEOUT = Duration.ofMinutes(10);

    /** One decision and its outcome: "applied", "dry run", "nothing to do", or why applying failed. */
    public record Record(Instant at, Decision decision, String outcome) {
    }

    private final Policy policy;
    private final Duration interval;
    private final HostBackend backend;
    private final boolean dryRun;
    private final Deque<Record> records = new ArrayDeque<>();
    private final ExecutorService scrubs = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "policy-scrubs");
        thread.setDaemon(true);
        return thread;
    });
    private Optional<HostSnapshot> previous = Optional.empty();

    public PolicyStep(Policy policy, Duration interval, HostBackend backend, boolean dryRun) {
        this.policy = policy;
        this.interval = interval;
        this.backend = backend;
        this.dryRun = dryRun;
    }

    @Override
    public void accept(HostSnapshot current) {
        if (previous.isPresent() && current.sampledAt().isBefore(previous.get().sampledAt().plus(interval))) {
            return;
        }
        Decision decision = policy.decide(previous, current);
        previous = Optional.of(current);
        String outcome;
        if (decision.changesNothing()) {
            outcome = "nothing to do";
        } else if (dryRun) {
            outcome = "dry run: nothing written, no scrub asked";
        } else {
            outcome = apply(decision);
        }
        LOG.log(System.Logger.Level.INFO, decision.mode() + ": " + decision.reason() + " (" + outcome + ")");
        synchronized (records) {
            if (records.size() == KEPT) {
                records.removeFirst();
            }
            records.addLast(new Record(current.sampledAt(), decision, outcome));
        }
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
                    backend.scrub(request.vmUuid(), request.maxBytes(), SCRUB_TIMEOUT);
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

    @Override
    public void close() {
        scrubs.shutdownNow();
    }
}
