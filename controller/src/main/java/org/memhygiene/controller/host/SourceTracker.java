package org.memhygiene.controller.host;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.memhygiene.core.host.SourceState;

/**
 * The state of each source of a host sample (KSM, host memory, libvirt, each agent): whether its last read
 * worked, when one last did, its last figures (served, stale, while it is down), and the log. A source is
 * logged when it goes down and when it comes back; while it stays down the warning is repeated with
 * backoff ({@link #FIRST_REPEAT} doubling to {@link #MAX_REPEAT}), not on every sample. Like node_exporter's
 * collectors (node_scrape_collector_success), one failing source takes nothing from the others.
 */
final class SourceTracker {
    static final Duration FIRST_REPEAT = Duration.ofMinutes(1);
    static final Duration MAX_REPEAT = Duration.ofHours(1);
    private static final System.Logger LOG = System.getLogger(SourceTracker.class.getName());

    /** One source's memory across samples. */
    private static final class Source {
        Object last;
        Optional<Instant> lastSuccessAt = Optional.empty();
        boolean up = true;
        Optional<Instant> downSince = Optional.empty();
        Instant nextRepeatAt = Instant.MAX;
        Duration repeat = FIRST_REPEAT;
        SourceState state;
    }

    private final Clock clock;
    private final boolean logChanges;
    private final Map<String, Source> sources = new LinkedHashMap<>();

    /**
     * @param logChanges whether a source going down or coming back is logged, as the daemon does for its
     *                   journal; a command that samples once says what failed itself, and not twice
     */
    SourceTracker(Clock clock, boolean logChanges) {
        this.clock = clock;
        this.logChanges = logChanges;
    }

    /**
     * Reads {@code name} with {@code reader}: its fresh value, or when the read throws, the last value read
     * (stale), or empty when it never worked. Either way the source's state is recorded.
     */
    synchronized <T> Optional<T> read(String name, Supplier<T> reader) {
        Source source = sources.computeIfAbsent(name, n -> new Source());
        try {
            T value = reader.get();
            source.last = value;
            succeeded(name, source);
            return Optional.of(value);
        } catch (RuntimeException e) {
            failed(name, source, e.getMessage() != null ? e.getMessage() : e.toString());
            @SuppressWarnings("unchecked")
            T last = (T) source.last;
            return Optional.ofNullable(last);
        }
    }

    /** Records a source whose figures the caller keeps itself (an agent link keeps its last reply). */
    synchronized void record(String name, boolean up, String error) {
        Source source = sources.computeIfAbsent(name, n -> new Source());
        if (up) {
            succeeded(name, source);
        } else {
            failed(name, source, error);
        }
    }

    /** Forgets the agent sources not in {@code agents} (a VM that is gone, stopped, or has no channel). */
    synchronized void retainAgents(Set<String> agents) {
        sources.keySet().removeIf(name -> name.startsWith(SourceState.AGENT_PREFIX) && !agents.contains(name));
    }

    /** The state of every source, in the order they were first read. */
    synchronized List<SourceState> states() {
        List<SourceState> states = new ArrayList<>(sources.size());
        sources.values().forEach(s -> states.add(s.state));
        return states;
    }

    private void log(System.Logger.Level level, String message) {
        if (logChanges) {
            LOG.log(level, message);
        }
    }

    private void succeeded(String name, Source source) {
        Instant now = clock.instant();
        if (!source.up) {
            log(
                    System.Logger.Level.INFO,
                    "source " + name + " is up again after "
                            + Duration.between(source.downSince.orElse(now), now)
                                    .toSeconds() + " s");
        }
        source.up = true;
        source.downSince = Optional.empty();
        source.repeat = FIRST_REPEAT;
        source.lastSuccessAt = Optional.of(now);
        source.state = SourceState.up(name, now);
    }

    private void failed(String name, Source source, String error) {
        Instant now = clock.instant();
        if (source.up) {
            source.up = false;
            source.downSince = Optional.of(now);
            source.nextRepeatAt = now.plus(FIRST_REPEAT);
            source.repeat = FIRST_REPEAT;
            log(System.Logger.Level.WARNING, "source " + name + " is down: " + error + stale(source));
        } else if (!now.isBefore(source.nextRepeatAt)) {
            source.repeat = source.repeat.multipliedBy(2).compareTo(MAX_REPEAT) > 0
                    ? MAX_REPEAT
                    : source.repeat.multipliedBy(2);
            source.nextRepeatAt = now.plus(source.repeat);
            log(
                    System.Logger.Level.WARNING,
                    "source " + name + " is still down, since " + source.downSince.orElse(now) + ": " + error
                            + stale(source));
        }
        source.state = SourceState.down(name, error, source.lastSuccessAt, now);
    }

    private static String stale(Source source) {
        return source.lastSuccessAt
                .map(at -> "; its figures of " + at + " are served, marked stale")
                .orElse("; it has no figures yet");
    }
}
