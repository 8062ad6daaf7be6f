package org.memhygiene.core.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class KsmTextTest {
    @Test
    void parsesKernelTextIncludingAdvisorSelectionAndNegativeProfit() {
        KsmStats stats = KsmText.parse(
                Map.of(
                        "pages_sharing", "1200\n",
                        "general_profit", "-4096\n",
                        "advisor_mode", "none [scan-time]\n",
                        "run", "1\n"),
                Map.of());
        assertEquals(OptionalLong.of(1200), stats.pagesSharing());
        assertEquals(OptionalLong.of(-4096), stats.generalProfitBytes());
        assertEquals(Optional.of("scan-time"), stats.advisorMode());
        assertTrue(stats.merging());
        assertTrue(stats.unreadableFiles().isEmpty());
    }

    @Test
    void aFileTheKernelLacksIsAbsentNotZero() {
        KsmStats stats = KsmText.parse(Map.of("pages_sharing", "5\n"), Map.of());
        assertEquals(OptionalLong.empty(), stats.ksmZeroPages());
        assertEquals(OptionalLong.empty(), stats.smartScan());
        assertEquals(Optional.empty(), stats.advisorMode());
        assertTrue(stats.unreadableFiles().isEmpty());
    }

    @Test
    void malformedTextIsReportedAndNeverBecomesANumber() {
        KsmStats stats = KsmText.parse(
                Map.of(
                        "pages_shared", "",
                        "pages_sharing", "12abc\n",
                        "pages_unshared", "18446744073709551615\n",
                        "full_scans", "-3\n",
                        "advisor_mode", "none scan-time\n"),
                Map.of("run", "permission denied"));
        assertEquals(OptionalLong.empty(), stats.pagesShared());
        assertEquals(OptionalLong.empty(), stats.pagesSharing());
        assertEquals(OptionalLong.empty(), stats.pagesUnshared());
        assertEquals(OptionalLong.empty(), stats.fullScans());
        assertEquals(Optional.empty(), stats.advisorMode());
        Map<String, String> unreadable = stats.unreadableFiles();
        assertEquals("empty file, expected a decimal number", unreadable.get("pages_shared"));
        assertEquals("'12abc' is not a decimal number", unreadable.get("pages_sharing"));
        assertEquals("18446744073709551615 is out of range (past 2^63-1)", unreadable.get("pages_unshared"));
        assertEquals("'-3' is not a decimal number", unreadable.get("full_scans"));
        assertEquals("'none scan-time' has no [selected] choice", unreadable.get("advisor_mode"));
        assertEquals("permission denied", unreadable.get("run"));
    }

    @Test
    void largestSignedValueStillParses() {
        KsmStats stats = KsmText.parse(Map.of("pages_scanned", "9223372036854775807\n"), Map.of());
        assertEquals(OptionalLong.of(Long.MAX_VALUE), stats.pagesScanned());
    }

    @Test
    void unknownFilesAreKeptWithTheirText() {
        KsmStats stats = KsmText.parse(Map.of("redhat_only_zero_pages", "1\n"), Map.of());
        assertEquals(Map.of("redhat_only_zero_pages", "1"), stats.unknownFiles());
    }
}
