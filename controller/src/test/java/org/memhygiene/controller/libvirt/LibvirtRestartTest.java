package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.SourceState;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;

/**
 * The daemon's loop on qemu:///system while its libvirtd is killed and started again (a real libvirtd this
 * test starts as root, no domains): KSM and the host's memory keep coming every sample, libvirt shows down
 * with its last figures stale, and libvirt is back within two samples of libvirtd listening again. Waits on
 * samples, never on the clock. Reads KSM; changes nothing.
 */
class LibvirtRestartTest {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    /** Samples taken while libvirtd is down: each must serve KSM and host memory. */
    private static final int OUTAGE_SAMPLES = 25;
    /** A bound on waiting for a state that should come within a sample or two; a hung loop fails, not hangs. */
    private static final int MAX_SAMPLES = 50;

    private final BlockingQueue<HostSnapshot> samples = new LinkedBlockingQueue<>();

    private HostSnapshot next() throws InterruptedException {
        HostSnapshot s = samples.poll(1, TimeUnit.MINUTES);
        assertTrue(s != null, "the loop took no sample for a minute");
        return s;
    }

    private static boolean up(HostSnapshot s, String source) {
        return s.source(source).map(SourceState::up).orElse(false);
    }

    @Test
    void theLoopServesKsmAndHostMemoryWhileLibvirtdIsDownAndReconnectsWithinTwoSamples() throws Exception {
        Assumptions.assumeTrue(
                new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), 4096).available(),
                "skipped: a kernel without KSM has no KSM source to keep serving");
        Optional<LibvirtDaemon> started = LibvirtDaemon.startOwn("LibvirtRestartTest");
        Assumptions.assumeTrue(started.isPresent(), "skipped: no libvirtd of the test's own (see above)");
        try (LibvirtDaemon libvirtd = started.get();
                LinuxHost host = new LinuxHost(
                        "qemu:///system",
                        Duration.ofSeconds(1),
                        Duration.ZERO,
                        KsmSysfs.DEFAULT_ROOT,
                        ProcessKsmReader.DEFAULT_ROOT,
                        Path.of("/sys"),
                        Clock.systemUTC());
                SnapshotLoop loop = new SnapshotLoop(host, INTERVAL, Clock.systemUTC(), List.of(samples::add))) {
            loop.start();
            HostSnapshot first = next();
            assertTrue(up(first, SourceState.LIBVIRT), "libvirt answers before the kill: " + first.sources());

            libvirtd.kill();
            samples.clear();
            HostSnapshot down = next();
            for (int i = 0; up(down, SourceState.LIBVIRT); i++) {
                assertTrue(i < MAX_SAMPLES, "libvirt still up " + MAX_SAMPLES + " samples after libvirtd was killed");
                down = next();
            }
            SourceState libvirt = down.source(SourceState.LIBVIRT).orElseThrow();
            assertTrue(libvirt.stale() && libvirt.lastSuccessAt().isPresent(), "its last figures are kept: " + libvirt);
            assertTrue(libvirt.error().orElse("").contains("qemu:///system"), "the error names the URI: " + libvirt);

            long outageStart = System.nanoTime();
            Optional<Long> lastKsmNanos = Optional.empty();
            for (int i = 0; i < OUTAGE_SAMPLES; i++) {
                HostSnapshot s = next();
                assertFalse(up(s, SourceState.LIBVIRT), "libvirtd is down: " + s.sources());
                assertTrue(
                        up(s, SourceState.KSM) && up(s, SourceState.HOST_MEMORY),
                        "KSM and host memory come: " + s.sources());
                assertTrue(s.memory().isPresent());
                long ksmNanos = s.ksm().orElseThrow().monotonicNanos();
                assertNotEquals(
                        lastKsmNanos, Optional.of(ksmNanos), "a fresh KSM reading every sample, not a stale one");
                lastKsmNanos = Optional.of(ksmNanos);
                assertTrue(
                        s.source(SourceState.LIBVIRT).orElseThrow().ageMillis().orElseThrow() > 0,
                        "libvirt's figures age");
            }
            double minutes = (System.nanoTime() - outageStart) / 60e9;
            System.out.printf(
                    Locale.ROOT,
                    "LibvirtRestartTest: %d samples in %.1f s with libvirtd down: %.0f per minute"
                            + " at a %d ms interval (%.0f expected)%n",
                    OUTAGE_SAMPLES,
                    minutes * 60,
                    OUTAGE_SAMPLES / minutes,
                    INTERVAL.toMillis(),
                    60_000.0 / INTERVAL.toMillis());

            libvirtd.restart();
            samples.clear();
            // The first sample that starts after libvirtd listens may have begun before; two more are the bound.
            int taken = 0;
            HostSnapshot back = next();
            while (!up(back, SourceState.LIBVIRT)) {
                taken++;
                assertTrue(
                        taken <= 2,
                        "libvirt not back " + taken + " samples after libvirtd listened: " + back.sources());
                back = next();
            }
            assertTrue(
                    up(back, SourceState.KSM) && up(back, SourceState.HOST_MEMORY),
                    back.sources().toString());
            assertEquals(List.of(), back.sourcesDown(), "every source is up again");
        }
    }
}
