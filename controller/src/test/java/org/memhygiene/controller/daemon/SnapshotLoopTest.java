package org.memhygiene.controller.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.memhygiene.controller.policy.Samples;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;

class SnapshotLoopTest {

    /** A host whose sample takes a while and does not give up when interrupted (a libvirt call in progress). */
    private static final class SlowHost implements HostBackend {
        final CountDownLatch sampling = new CountDownLatch(1);

        @Override
        public HostSnapshot snapshot() {
            sampling.countDown();
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            return Samples.empty(Instant.now(), "slow:///");
        }

        @Override
        public List<KsmChange> applyKsm(KsmSettings settings) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScrubReport scrub(String vm, long maxBytes, Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AgentHello ping(String vm) {
            throw new UnsupportedOperationException();
        }

        @Override
        public DedupProbeReport probeDedup(DedupProbeRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<HostFacts> facts() {
            return Optional.empty();
        }

        @Override
        public List<String> enableBalloonStats(Duration period) {
            return List.of();
        }

        @Override
        public String describe() {
            return "slow host";
        }

        @Override
        public void close() {}
    }

    @Test
    void closeWaitsForTheSampleInProgressSoItsStepsFinishBeforeWhatTheyWriteToIsClosed() throws Exception {
        SlowHost host = new SlowHost();
        AtomicBoolean closed = new AtomicBoolean();
        AtomicBoolean stepRanAfterClose = new AtomicBoolean();
        CountDownLatch stepDone = new CountDownLatch(1);
        SnapshotLoop loop = new SnapshotLoop(host, Duration.ofSeconds(1), Clock.systemUTC(), List.of(snapshot -> {
            stepRanAfterClose.set(closed.get());
            stepDone.countDown();
        }));
        loop.start();
        assertTrue(host.sampling.await(5, TimeUnit.SECONDS));
        loop.close();
        closed.set(true); // what the daemon does next: close the history
        assertEquals(0, stepDone.getCount(), "close() returned before the sample in progress had run its steps");
        assertTrue(!stepRanAfterClose.get(), "a step ran after close() returned");
    }
}
