package org.memhygiene.agent.scrub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.agent.scrub.ProcTree.GIB;
import static org.memhygiene.agent.scrub.ProcTree.MIB;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.agent.ScrubReport.Outcome;

/** Periodic and after-a-large-free scrubs, driven by a real scheduler at millisecond intervals. */
class ScrubTriggersTest {
    @TempDir
    Path temporary;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final BlockingQueue<ScrubReport> reports = new LinkedBlockingQueue<>();

    @AfterEach
    void stopScheduler() throws InterruptedException {
        scheduler.shutdownNow();
        scheduler.awaitTermination(10, TimeUnit.SECONDS);
    }

    private ScrubTriggers triggers(ProcTree tree, ScrubConfig config) {
        return new ScrubTriggers(new Scrubber(config, tree.root, Clock.systemUTC()), scheduler, reports::add);
    }

    @Test
    void periodicScrubsKeepComing() throws Exception {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 6 * GIB);
        try (ScrubTriggers triggers = triggers(tree, ScrubConfig.defaults().withPeriodic(20, 4 * MIB))) {
            triggers.reschedule();
            for (int i = 0; i < 3; i++) {
                ScrubReport report = reports.poll(10, TimeUnit.SECONDS);
                assertNotNull(report, "periodic scrub " + i + " never came");
                assertEquals(Outcome.COMPLETED, report.outcome(), report.toString());
                assertEquals(4 * MIB, report.bytesZeroed(), "triggeredMaxBytes bounds each periodic scrub");
            }
        }
    }

    @Test
    void reschedulingAfterReconfigureTurnsPeriodicScrubsOnAndOff() throws Exception {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 6 * GIB);
        Scrubber scrubber = new Scrubber(ScrubConfig.defaults(), tree.root, Clock.systemUTC());
        try (ScrubTriggers triggers = new ScrubTriggers(scrubber, scheduler, reports::add)) {
            triggers.reschedule();
            assertNull(reports.poll(200, TimeUnit.MILLISECONDS), "off by default");
            scrubber.reconfigure(scrubber.config().withPeriodic(20, 4 * MIB));
            triggers.reschedule();
            assertNotNull(reports.poll(10, TimeUnit.SECONDS), "periodic scrubs once the new policy is scheduled");
            scrubber.reconfigure(scrubber.config().withPeriodic(0, 4 * MIB));
            triggers.reschedule();
            Thread.sleep(50); // a scrub started just before may still report
            reports.clear();
            assertNull(reports.poll(200, TimeUnit.MILLISECONDS), "off again");
        }
    }

    @Test
    void offByDefault() throws Exception {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 6 * GIB);
        try (ScrubTriggers triggers = triggers(tree, ScrubConfig.defaults())) {
            triggers.reschedule();
            tree.meminfo(8 * GIB, 7 * GIB);
            assertNull(reports.poll(200, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void aLargeFreeStartsOneScrubAndASmallOneDoesNot() throws Exception {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 4 * GIB);
        ScrubConfig config = ScrubConfig.defaults().withLargeFree(512 * MIB, 5, 8 * MIB);
        try (ScrubTriggers triggers = triggers(tree, config)) {
            triggers.reschedule();
            // Used memory falls by 100 MiB: under the threshold.
            tree.meminfo(8 * GIB, 4 * GIB + 100 * MIB);
            assertNull(reports.poll(200, TimeUnit.MILLISECONDS));
            // Used memory falls by 1 GiB: one scrub.
            tree.meminfo(8 * GIB, 5 * GIB + 100 * MIB);
            ScrubReport report = reports.poll(10, TimeUnit.SECONDS);
            assertNotNull(report, "no scrub after a 1 GiB free");
            assertEquals(Outcome.COMPLETED, report.outcome(), report.toString());
            assertEquals(8 * MIB, report.bytesZeroed());
            // The scrub is a new baseline: no second scrub without a second free.
            assertNull(reports.poll(200, TimeUnit.MILLISECONDS));
            tree.meminfo(8 * GIB, 6 * GIB);
            assertNotNull(reports.poll(10, TimeUnit.SECONDS), "a second large free, a second scrub");
        }
    }

    @Test
    void closingInterruptsARunningScrubWhichReleasesEverything() throws Exception {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 6 * GIB);
        ScrubConfig slow = ScrubConfig.defaults()
                .withChunkBytes(64 * MIB, MIB)
                .withMaxRate(20 * MIB)
                .withPeriodic(1, 400 * MIB);
        long rssBefore = SelfStatus.statusBytes("VmRSS");
        ScrubTriggers triggers = triggers(tree, slow);
        triggers.reschedule();
        ScrubberTest.awaitRssGrowth(rssBefore, 8 * MIB);
        triggers.close();
        ScrubReport report = reports.poll(10, TimeUnit.SECONDS);
        assertNotNull(report, "the interrupted scrub still reports");
        assertEquals(Outcome.FAILED, report.outcome(), report.toString());
        assertEquals("interrupted", report.reason());
        assertEquals(1, report.chunksAborted());
        assertTrue(SelfStatus.statusBytes("VmRSS") - rssBefore < 24 * MIB, "the scrub let go of its memory");
    }

    @Test
    void closingStopsTheTriggers() throws Exception {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 6 * GIB);
        ScrubTriggers triggers = triggers(tree, ScrubConfig.defaults().withPeriodic(10, 4 * MIB));
        triggers.reschedule();
        assertNotNull(reports.poll(10, TimeUnit.SECONDS));
        triggers.close();
        Thread.sleep(50); // a scrub started just before close may still report
        reports.clear();
        assertNull(reports.poll(200, TimeUnit.MILLISECONDS));
    }
}
