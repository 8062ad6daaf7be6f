package org.memhygiene.controller.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.memhygiene.controller.TestClock;
import org.memhygiene.core.host.SourceState;

/** A source that fails keeps its last figures, stale, and is logged on change with backoff, not on every sample. */
class SourceTrackerTest {
    private final TestClock clock = new TestClock();
    private final SourceTracker sources = new SourceTracker(clock, true);
    private final List<LogRecord> logged = new ArrayList<>();
    // System.Logger goes to java.util.logging here: listen on the tracker's logger.
    private final Logger log = Logger.getLogger(SourceTracker.class.getName());
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logged.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void listen() {
        log.addHandler(handler);
    }

    @AfterEach
    void stopListening() {
        log.removeHandler(handler);
    }

    private Optional<String> read(boolean works) {
        return sources.read("libvirt", () -> {
            if (!works) {
                throw new IllegalStateException("libvirt on qemu:///system: open connection failed");
            }
            return "domains at " + clock.now;
        });
    }

    @Test
    void aFailingSourceServesItsLastFiguresStaleAndIsLoggedWithBackoff() {
        assertEquals(Optional.of("domains at " + clock.now), read(true));
        String good = "domains at " + clock.now;
        SourceState up = sources.states().get(0);
        assertTrue(up.up() && !up.stale() && up.ageMillis().getAsLong() == 0, up.toString());
        assertEquals(List.of(), logged);

        clock.now = clock.now.plusSeconds(1);
        assertEquals(Optional.of(good), read(false), "the last figures, stale");
        SourceState down = sources.states().get(0);
        assertFalse(down.up());
        assertTrue(down.stale());
        assertEquals(1000, down.ageMillis().getAsLong());
        assertEquals(Optional.of("libvirt on qemu:///system: open connection failed"), down.error());
        assertEquals(1, logged.size(), "logged when it went down");
        assertEquals(Level.WARNING, logged.get(0).getLevel());

        // Every second for 8 minutes (seconds counted from the first read; down since second 1): a warning
        // again only 1 minute after going down, then 2 minutes later, then 4.
        List<Long> repeatsAtSeconds = new ArrayList<>();
        for (int second = 2; second <= 8 * 60; second++) {
            clock.now = clock.now.plusSeconds(1);
            int before = logged.size();
            read(false);
            if (logged.size() > before) {
                repeatsAtSeconds.add((long) second);
            }
        }
        assertEquals(List.of(61L, 181L, 421L), repeatsAtSeconds, "repeated after 1, then 2, then 4 minutes down");
        assertEquals(
                Duration.ofMinutes(8).toMillis(),
                sources.states().get(0).ageMillis().getAsLong(),
                "its figures are as old as the last good read");

        clock.now = clock.now.plusSeconds(1);
        int before = logged.size();
        assertEquals(Optional.of("domains at " + clock.now), read(true));
        assertEquals(before + 1, logged.size(), "logged when it came back");
        assertEquals(Level.INFO, logged.get(logged.size() - 1).getLevel());
        assertTrue(sources.states().get(0).up());
    }

    @Test
    void aCommandsTrackerRecordsTheStateButLogsNothing() {
        SourceTracker command = new SourceTracker(clock, false);
        command.read("libvirt", () -> {
            throw new IllegalStateException("libvirt on qemu:///system: open connection failed");
        });
        clock.now = clock.now.plusSeconds(3600);
        command.read("libvirt", () -> "domains");
        assertTrue(command.states().get(0).up(), command.states().toString());
        assertEquals(List.of(), logged, "neither down nor up again");
    }

    @Test
    void aSourceNeverReadHasNoFiguresAndAgentsThatAreGoneAreForgotten() {
        assertEquals(Optional.empty(), read(false));
        SourceState never = sources.states().get(0);
        assertFalse(never.stale());
        assertTrue(never.lastSuccessAt().isEmpty() && never.ageMillis().isEmpty(), never.toString());
        sources.record(SourceState.agent("web1"), true, "");
        sources.record(SourceState.agent("web2"), false, "timeout: no reply");
        assertEquals(
                List.of("libvirt", "agent/web1", "agent/web2"),
                sources.states().stream().map(SourceState::name).toList());
        sources.retainAgents(Set.of("agent/web2"));
        assertEquals(
                List.of("libvirt", "agent/web2"),
                sources.states().stream().map(SourceState::name).toList());
    }
}
