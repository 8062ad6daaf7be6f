package org.memhygiene.core.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.host.HostNotAvailableException;
import org.memhygiene.core.host.HostRefusedException;
import org.memhygiene.core.linux.LinuxMemory;

/** KsmSysfs against temporary trees: the faults a real kernel's sysfs cannot be made to show. */
class KsmSysfsTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryFileAndLeavesMissingOnesAbsent() {
        SysfsTree tree = SysfsTree.create(dir)
                .put("pages_sharing", "77")
                .remove("ksm_zero_pages")
                .remove("smart_scan")
                .remove("advisor_mode");
        KsmStats stats = tree.sysfs().read();
        assertEquals(OptionalLong.of(77), stats.pagesSharing());
        assertEquals(OptionalLong.empty(), stats.ksmZeroPages());
        assertEquals(OptionalLong.empty(), stats.smartScan());
        assertEquals(Optional.empty(), stats.advisorMode());
        assertEquals(OptionalLong.of(100), stats.pagesToScan());
        assertTrue(stats.unreadableFiles().isEmpty(), stats.unreadableFiles().toString());
    }

    @Test
    void emptyGarbageAndOversizedValuesAreReportedNotGuessed() throws IOException {
        SysfsTree tree = SysfsTree.create(dir)
                .put("pages_shared", "")
                .put("pages_sharing", "lots")
                .put("full_scans", "9223372036854775808");
        Files.delete(tree.root().resolve("pages_volatile"));
        Files.createSymbolicLink(tree.root().resolve("pages_volatile"), Path.of("/dev/zero"));
        KsmStats stats = tree.sysfs().read();
        assertEquals(OptionalLong.empty(), stats.pagesShared());
        assertEquals(OptionalLong.empty(), stats.pagesSharing());
        assertEquals(OptionalLong.empty(), stats.fullScans());
        assertEquals(OptionalLong.empty(), stats.pagesVolatile());
        assertTrue(stats.unreadableFiles().get("pages_shared").startsWith("empty file"));
        assertTrue(stats.unreadableFiles().get("pages_sharing").contains("not a decimal number"));
        assertTrue(stats.unreadableFiles().get("full_scans").contains("past 2^63-1"));
        assertTrue(
                stats.unreadableFiles().get("pages_volatile").contains("not a KSM sysfs file"),
                "an endless file is cut off, not read forever");
    }

    @Test
    void missingRootSaysKsmIsNotAvailable() {
        KsmSysfs sysfs = new KsmSysfs(dir.resolve("no-such-dir"), Clock.systemUTC(), LinuxMemory.pageSizeBytes());
        HostNotAvailableException e = assertThrows(HostNotAvailableException.class, sysfs::read);
        assertTrue(e.getMessage().contains("KSM is not available"), e.getMessage());
        assertFalse(sysfs.available());
    }

    @Test
    void appliesEveryValueAndReportsBeforeAndAfter() {
        SysfsTree tree = SysfsTree.create(dir).put("pages_to_scan", "1000000");
        List<KsmChange> changes =
                tree.sysfs().apply(KsmSettings.parse(List.of("run=1", "pages_to_scan=5", "use_zero_pages=yes")));
        assertEquals("5", tree.get("pages_to_scan"), "old longer text must be truncated");
        assertEquals("1", tree.get("use_zero_pages"));
        assertEquals("1", tree.get("run"));
        assertEquals(
                List.of(
                        new KsmChange(KsmKnob.PAGES_TO_SCAN, "1000000", "5"),
                        new KsmChange(KsmKnob.USE_ZERO_PAGES, "0", "1"),
                        new KsmChange(KsmKnob.RUN, "0", "1")),
                changes);
    }

    @Test
    void aKnobWhoseValueCannotBeReadIsNotWritten() throws IOException {
        SysfsTree tree = SysfsTree.create(dir);
        // /dev/full reads as NULs: the current value is unknown, so nothing can be put back later.
        Files.delete(tree.root().resolve("use_zero_pages"));
        Files.createSymbolicLink(tree.root().resolve("use_zero_pages"), Path.of("/dev/full"));
        HostNotAvailableException e = assertThrows(
                HostNotAvailableException.class,
                () -> tree.sysfs().apply(KsmSettings.parse(List.of("pages_to_scan=999", "use_zero_pages=1", "run=1"))));
        assertTrue(e.getMessage().contains("cannot read") && e.getMessage().contains("use_zero_pages"), e.getMessage());
        assertEquals("100", tree.get("pages_to_scan"));
        assertEquals("0", tree.get("run"));
    }

    @Test
    void aWriteTheKernelRefusesPutsBackWhatWasAlreadyWritten() throws IOException {
        // A real kernel refusal at write time: khugepaged's pages_to_scan reads as a number and its
        // store function returns EINVAL for 0 (mm/khugepaged.c), so nothing changes there.
        Path refusing = Path.of("/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan");
        Assumptions.assumeTrue(
                Files.isWritable(refusing),
                "skipped: needs root and " + refusing + " (a kernel with transparent huge pages)");
        SysfsTree tree = SysfsTree.create(dir);
        Files.delete(tree.root().resolve("pages_to_scan"));
        Files.createSymbolicLink(tree.root().resolve("pages_to_scan"), refusing);
        String before = Files.readString(refusing).strip();
        // merge_across_nodes is written before pages_to_scan, so it must be put back.
        HostRefusedException e = assertThrows(
                HostRefusedException.class,
                () -> tree.sysfs().apply(KsmSettings.parse(List.of("merge_across_nodes=0", "pages_to_scan=0"))));
        assertTrue(e.getMessage().contains("the kernel refused pages_to_scan=0 (Invalid argument)"), e.getMessage());
        assertTrue(e.getMessage().contains("put back merge_across_nodes=1"), e.getMessage());
        assertEquals("1", tree.get("merge_across_nodes"));
        assertEquals(before, Files.readString(refusing).strip());
    }

    @Test
    void aMissingKnobFailsBeforeAnythingIsWritten() {
        SysfsTree tree = SysfsTree.create(dir).remove("smart_scan");
        HostNotAvailableException e = assertThrows(
                HostNotAvailableException.class,
                () -> tree.sysfs().apply(KsmSettings.parse(List.of("run=1", "smart_scan=0"))));
        assertTrue(e.getMessage().contains("this kernel has no KSM knob smart_scan"), e.getMessage());
        assertEquals("0", tree.get("run"));
    }

    @Test
    void aKnobThatCannotBeOpenedForWritingFailsBeforeAnythingIsWritten() throws IOException {
        // A read-only sysfs attribute reads as a number but refuses O_WRONLY even to root (kernfs has
        // no store method for it): the same fault as a knob on a read-only /sys.
        Path readOnly = Path.of("/sys/kernel/mm/ksm/pages_shared");
        Assumptions.assumeTrue(Files.isReadable(readOnly), "skipped: needs KSM in the kernel (" + readOnly + ")");
        SysfsTree tree = SysfsTree.create(dir);
        Files.delete(tree.root().resolve("run"));
        Files.createSymbolicLink(tree.root().resolve("run"), readOnly);
        HostRefusedException e = assertThrows(
                HostRefusedException.class,
                () -> tree.sysfs().apply(KsmSettings.parse(List.of("pages_to_scan=5", "run=0"))));
        assertTrue(e.getMessage().contains("nothing was changed"), e.getMessage());
        assertEquals("100", tree.get("pages_to_scan"));
    }

    @Test
    void mergeAcrossNodesChangesOnlyWithNothingShared() {
        SysfsTree tree = SysfsTree.create(dir).put("pages_shared", "12");
        HostRefusedException e = assertThrows(
                HostRefusedException.class,
                () -> tree.sysfs().apply(KsmSettings.parse(List.of("merge_across_nodes=0"))));
        assertTrue(e.getMessage().contains("only while no pages are shared (pages_shared=12)"), e.getMessage());
        assertEquals("1", tree.get("merge_across_nodes"));
        // Unmerging in the same step is allowed: run=2 is written first.
        tree.sysfs().apply(KsmSettings.parse(List.of("merge_across_nodes=0", "run=2")));
        assertEquals("0", tree.get("merge_across_nodes"));
        assertEquals("2", tree.get("run"));
        // Setting the value it already has is no change, so it is allowed while shared.
        tree.sysfs().apply(KsmSettings.parse(List.of("max_page_sharing=256")));
    }

    @Test
    void pagesToScanIsRefusedWhileTheAdvisorOwnsIt() {
        SysfsTree tree = SysfsTree.create(dir).put("advisor_mode", "none [scan-time]");
        HostRefusedException e = assertThrows(
                HostRefusedException.class, () -> tree.sysfs().apply(KsmSettings.parse(List.of("pages_to_scan=5"))));
        assertTrue(e.getMessage().contains("advisor_mode=none"), e.getMessage());
        tree.sysfs().apply(KsmSettings.parse(List.of("pages_to_scan=5", "advisor_mode=none")));
        assertEquals("5", tree.get("pages_to_scan"));
        assertEquals("none", tree.get("advisor_mode"));
    }

    @Test
    void restorePointPutsBackThePreviousValuesOnce() {
        SysfsTree tree = SysfsTree.create(dir);
        KsmSysfs sysfs = tree.sysfs();
        KsmSettings settings = KsmSettings.parse(List.of("run=1", "pages_to_scan=4000", "use_zero_pages=1"));
        KsmRestorePoint restorePoint = KsmRestorePoint.before(sysfs, settings);
        sysfs.apply(settings);
        assertEquals("4000", tree.get("pages_to_scan"));
        assertEquals(3, restorePoint.restore().size());
        assertEquals("100", tree.get("pages_to_scan"));
        assertEquals("0", tree.get("run"));
        tree.put("run", "1");
        assertTrue(restorePoint.restore().isEmpty(), "a second restore does nothing");
        assertEquals("1", tree.get("run"));
    }
}
