package org.memhygiene.agent.scrub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.agent.scrub.ProcTree.GIB;
import static org.memhygiene.agent.scrub.ProcTree.MIB;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.agent.ScrubReport.Outcome;

/**
 * The scrubber against prepared /proc trees: the safety decisions are driven by the files, the memory
 * it maps and touches is real.
 */
class ScrubberTest {
    @TempDir
    Path temporary;

    private ProcTree tree() {
        return new ProcTree(temporary).meminfo(8 * GIB, 6 * GIB);
    }

    private Scrubber scrubber(ProcTree tree, ScrubConfig config) {
        return new Scrubber(config, tree.root, Clock.systemUTC());
    }

    @ParameterizedTest
    @EnumSource(ScrubConfig.FaultMethod.class)
    void everyPageOfTheTargetIsFaultedInAtOnceThenReleased(ScrubConfig.FaultMethod method) {
        Scrubber scrubber =
                scrubber(tree(), ScrubConfig.defaults().withFaultMethod(method).withMaxRate(0));
        long rssBefore = SelfStatus.statusBytes("VmRSS");
        SelfStatus.resetPeakRss();

        ScrubReport report = scrubber.scrub(96 * MIB);

        assertEquals(Outcome.COMPLETED, report.outcome(), report.toString());
        assertEquals("", report.reason());
        assertEquals(96 * MIB, report.bytesZeroed());
        assertEquals(96 * MIB, report.targetBytes());
        assertEquals(2, report.chunksCompleted(), "a 64 MiB chunk and a 32 MiB one");
        assertEquals(0, report.chunksAborted());
        assertTrue(report.throughputBytesPerSecond() > 0);
        // All of it was resident at the same moment (held, not recycled chunk by chunk) ...
        long peakGrowth = SelfStatus.statusBytes("VmHWM") - rssBefore;
        assertTrue(peakGrowth >= 90 * MIB, "peak RSS grew by only " + peakGrowth / MIB + " MiB");
        // ... and none of it is left.
        long rssGrowth = SelfStatus.statusBytes("VmRSS") - rssBefore;
        assertTrue(rssGrowth < 24 * MIB, "RSS still " + rssGrowth / MIB + " MiB above the start");
    }

    @Test
    void targetIsLimitedByTheHeadroom() {
        // 8 GiB total: headroom max(256 MiB, 10 %) = 819 MiB; MemAvailable 880 MiB leaves 61 MiB.
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 880 * MIB);
        ScrubReport report =
                scrubber(tree, ScrubConfig.defaults().withMaxRate(0)).scrub(GIB);
        long headroom = 8 * GIB / 100 * 10;
        assertEquals(Outcome.COMPLETED, report.outcome(), report.toString());
        assertEquals((880 * MIB - headroom) / 4096 * 4096, report.targetBytes() / 4096 * 4096);
        assertEquals(report.targetBytes(), report.bytesZeroed());
    }

    @Test
    void nothingToDoWhenMemAvailableIsUnderTheHeadroom() {
        ProcTree tree = new ProcTree(temporary).meminfo(8 * GIB, 500 * MIB);
        ScrubReport report = scrubber(tree, ScrubConfig.defaults()).scrub(GIB);
        assertEquals(Outcome.SKIPPED_NOTHING_TO_DO, report.outcome());
        assertEquals("MemAvailable 500 MiB leaves nothing above the headroom of 819 MiB", report.reason());
        assertEquals(0, report.bytesZeroed());
    }

    @Test
    void skipsWhenTheGuestAlreadyZeroesFreedPages() {
        ProcTree tree = tree().cmdline("BOOT_IMAGE=/vmlinuz root=/dev/vda1 init_on_free=1 quiet");
        SelfStatus.resetPeakRss();
        long rssBefore = SelfStatus.statusBytes("VmRSS");
        ScrubReport report = scrubber(tree, ScrubConfig.defaults()).scrub(256 * MIB);
        assertEquals(Outcome.SKIPPED_INIT_ON_FREE, report.outcome());
        assertTrue(report.reason().contains("init_on_free=1"), report.reason());
        assertEquals(0, report.bytesZeroed());
        assertTrue(SelfStatus.statusBytes("VmHWM") - rssBefore < 64 * MIB, "nothing was faulted in");
    }

    @Test
    void stopsAtOnceWhenPressurePassesTheThresholdMidScrub() throws Exception {
        ProcTree tree = tree();
        Scrubber scrubber = scrubber(
                tree,
                ScrubConfig.defaults()
                        .withChunkBytes(64 * MIB, MIB)
                        .withMaxRate(20 * MIB)
                        .withPressureThreshold(10.0));
        long rssBefore = SelfStatus.statusBytes("VmRSS");
        CompletableFuture<ScrubReport> scrub = CompletableFuture.supplyAsync(() -> scrubber.scrub(200 * MIB));
        awaitRssGrowth(rssBefore, 16 * MIB);
        tree.pressure(42.5);

        ScrubReport report = scrub.get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.STOPPED_PRESSURE, report.outcome(), report.toString());
        assertEquals("memory pressure some avg10=42.50% passed the threshold of 10.00%", report.reason());
        assertTrue(report.bytesZeroed() > 0 && report.bytesZeroed() < 200 * MIB, report.toString());
        assertEquals(200 * MIB, report.targetBytes());
        assertEquals(1, report.chunksAborted(), "the chunk being filled was released early");
        long rssGrowth = SelfStatus.statusBytes("VmRSS") - rssBefore;
        assertTrue(rssGrowth < 24 * MIB, "RSS still " + rssGrowth / MIB + " MiB above the start");
    }

    @Test
    void pressureAlreadyHighMeansNoPageIsTouched() {
        ScrubReport report =
                scrubber(tree().pressure(25.0), ScrubConfig.defaults()).scrub(64 * MIB);
        assertEquals(Outcome.STOPPED_PRESSURE, report.outcome());
        assertEquals(0, report.bytesZeroed());
        assertEquals(0, report.chunksCompleted() + report.chunksAborted());
    }

    @Test
    void headroomCrossedMidScrubStopsAndReleases() throws Exception {
        ProcTree tree = tree();
        Scrubber scrubber = scrubber(
                tree, ScrubConfig.defaults().withChunkBytes(32 * MIB, MIB).withMaxRate(20 * MIB));
        long rssBefore = SelfStatus.statusBytes("VmRSS");
        CompletableFuture<ScrubReport> scrub = CompletableFuture.supplyAsync(() -> scrubber.scrub(200 * MIB));
        awaitRssGrowth(rssBefore, 16 * MIB);
        tree.meminfo(8 * GIB, 800 * MIB);

        ScrubReport report = scrub.get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.STOPPED_HEADROOM, report.outcome(), report.toString());
        assertEquals("MemAvailable 800 MiB fell under the headroom of 819 MiB", report.reason());
        assertTrue(report.bytesZeroed() > 0 && report.bytesZeroed() < report.targetBytes(), report.toString());
        assertEquals(report.bytesZeroed() / (32 * MIB), report.chunksCompleted(), "full 32 MiB chunks before the stop");
        assertTrue(SelfStatus.statusBytes("VmRSS") - rssBefore < 24 * MIB);
    }

    @Test
    void withoutPsiOnlyTheHeadroomGuards() throws Exception {
        ProcTree tree = tree();
        Files.delete(tree.root.resolve("pressure/memory"));
        ScrubReport report =
                scrubber(tree, ScrubConfig.defaults().withMaxRate(0)).scrub(8 * MIB);
        assertEquals(Outcome.COMPLETED, report.outcome(), report.toString());
    }

    @Test
    void anUnreadableMeminfoFailsWithTheFileNamed() throws Exception {
        ProcTree tree = tree();
        tree.write("meminfo", "MemTotal: 1 kB\nMemFree: 1 kB\n");
        ScrubReport report = scrubber(tree, ScrubConfig.defaults()).scrub(8 * MIB);
        assertEquals(Outcome.FAILED, report.outcome());
        assertTrue(report.reason().contains("meminfo: expected a \"MemAvailable: N kB\" line"), report.reason());
    }

    @Test
    void anInterruptedCallerGetsAFailedReportAndNothingIsHeld() throws Exception {
        Scrubber scrubber = scrubber(
                tree(), ScrubConfig.defaults().withChunkBytes(64 * MIB, MIB).withMaxRate(20 * MIB));
        long rssBefore = SelfStatus.statusBytes("VmRSS");
        ScrubReport[] result = new ScrubReport[1];
        boolean[] stillInterrupted = new boolean[1];
        Thread caller = new Thread(() -> {
            result[0] = scrubber.scrub(200 * MIB);
            stillInterrupted[0] = Thread.currentThread().isInterrupted();
        });
        caller.start();
        awaitRssGrowth(rssBefore, 8 * MIB);
        caller.interrupt();
        caller.join(30_000);
        assertFalse(caller.isAlive());
        assertEquals(Outcome.FAILED, result[0].outcome(), result[0].toString());
        assertEquals("interrupted", result[0].reason());
        assertTrue(stillInterrupted[0], "the caller's interrupt flag is kept");
        assertTrue(SelfStatus.statusBytes("VmRSS") - rssBefore < 24 * MIB);
    }

    @Test
    void oneScrubAtATime() throws Exception {
        Scrubber scrubber = scrubber(
                tree(), ScrubConfig.defaults().withChunkBytes(64 * MIB, MIB).withMaxRate(20 * MIB));
        long rssBefore = SelfStatus.statusBytes("VmRSS");
        CompletableFuture<ScrubReport> first = CompletableFuture.supplyAsync(() -> scrubber.scrub(40 * MIB));
        awaitRssGrowth(rssBefore, 4 * MIB);
        ScrubReport second = scrubber.scrub(40 * MIB);
        assertEquals(Outcome.SKIPPED_NOTHING_TO_DO, second.outcome());
        assertEquals("another scrub is in progress", second.reason());
        assertEquals(Outcome.COMPLETED, first.get(30, TimeUnit.SECONDS).outcome());
        assertEquals(1, scrubber.counters().scrubsRun(), "a refused request is not a scrub");
    }

    @Test
    void countersAddUpEveryScrub() {
        ProcTree tree = tree();
        Scrubber scrubber = scrubber(tree, ScrubConfig.defaults().withMaxRate(0));
        assertEquals(new ScrubCounters(0, 0, Optional.empty()), scrubber.counters());
        ScrubReport first = scrubber.scrub(8 * MIB);
        tree.cmdline("init_on_free=1");
        ScrubReport second = scrubber.scrub(8 * MIB);
        ScrubCounters counters = scrubber.counters();
        assertEquals(2, counters.scrubsRun());
        assertEquals(first.bytesZeroed() + second.bytesZeroed(), counters.totalBytesZeroed());
        assertEquals(8 * MIB, counters.totalBytesZeroed());
        assertEquals(second, counters.lastReport().orElseThrow());
    }

    @Test
    void maxBytesMustBePositive() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> scrubber(tree(), ScrubConfig.defaults()).scrub(0));
        assertEquals("maxBytes = 0: expected a positive number of bytes", e.getMessage());
    }

    /**
     * Waits (bounded) until a scrub thread runs and this process's RSS has grown by {@code bytes}: the
     * scrub is under way. The thread is the sure sign; RSS also moves with the JVM's own allocations.
     */
    static void awaitRssGrowth(long rssBefore, long bytes) throws InterruptedException {
        awaitRssGrowthUnless(rssBefore, bytes, () -> false);
    }

    /**
     * As {@link #awaitRssGrowth}, but gives up and returns false once {@code ended} (the scrub ended before
     * it got under way); true once the scrub is under way.
     */
    static boolean awaitRssGrowthUnless(long rssBefore, long bytes, BooleanSupplier ended) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().equals("memhygiene-scrub"))
                || SelfStatus.statusBytes("VmRSS") - rssBefore < bytes) {
            if (ended.getAsBoolean()) {
                return false;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("RSS never grew by " + bytes / MIB + " MiB");
            }
            Thread.sleep(5);
        }
        return true;
    }
}
