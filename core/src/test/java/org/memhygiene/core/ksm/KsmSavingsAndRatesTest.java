package org.memhygiene.core.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class KsmSavingsAndRatesTest {
    private static final long PAGE = 4096;

    private static KsmStats stats(Map<String, String> files) {
        return KsmText.parse(files, Map.of());
    }

    private static Map<String, String> counters(long shared, long sharing, long unshared, long volatilePages) {
        Map<String, String> files = new HashMap<>();
        files.put("pages_shared", shared + "\n");
        files.put("pages_sharing", sharing + "\n");
        files.put("pages_unshared", unshared + "\n");
        files.put("pages_volatile", volatilePages + "\n");
        return files;
    }

    @Test
    void savingsFollowTheKernelsAccounting() {
        Map<String, String> files = counters(10, 90, 100, 0);
        files.put("ksm_zero_pages", "50\n");
        files.put("general_profit", "123\n");
        KsmSavings savings = KsmSavings.of(stats(files), PAGE);
        assertEquals(OptionalLong.of(90 * PAGE), savings.savedBySharingBytes());
        assertEquals(OptionalLong.of(50 * PAGE), savings.savedByZeroPagesBytes());
        assertEquals(OptionalLong.of(140 * PAGE), savings.savedTotalBytes());
        assertEquals(OptionalDouble.of(9.0), savings.sharingRatio());
        assertEquals(100.0 / 90, savings.unsharedRatio().getAsDouble(), 1e-9);
        assertEquals(OptionalLong.of(123), savings.generalProfitBytes(), "the kernel's own figure wins");
        assertFalse(savings.generalProfitEstimated());
    }

    @Test
    void generalProfitIsEstimatedWhereTheKernelLacksIt() {
        KsmSavings savings = KsmSavings.of(stats(counters(10, 90, 100, 0)), PAGE);
        // ksm.rst: pages_sharing * page size - (sharing + shared + unshared + volatile) * 64
        assertEquals(OptionalLong.of(90 * PAGE - 200 * 64), savings.generalProfitBytes());
        assertTrue(savings.generalProfitEstimated());
        assertEquals(OptionalLong.empty(), savings.savedByZeroPagesBytes());
    }

    @Test
    void ratiosAreAbsentWhenNothingIsShared() {
        KsmSavings savings = KsmSavings.of(stats(counters(0, 0, 5, 0)), PAGE);
        assertEquals(OptionalDouble.empty(), savings.sharingRatio());
        assertEquals(OptionalDouble.empty(), savings.unsharedRatio());
    }

    @Test
    void ratesBetweenTwoSamples() {
        Map<String, String> a = counters(1, 100, 0, 0);
        a.put("ksm_zero_pages", "0\n");
        a.put("full_scans", "2\n");
        a.put("pages_scanned", "1000\n");
        Map<String, String> b = counters(1, 300, 0, 0);
        b.put("ksm_zero_pages", "100\n");
        b.put("full_scans", "4\n");
        b.put("pages_scanned", "21000\n");
        KsmSample first = new KsmSample(Instant.EPOCH, 0, PAGE, stats(a));
        KsmSample second = new KsmSample(Instant.EPOCH.plusSeconds(2), 2_000_000_000L, PAGE, stats(b));
        KsmRates rates = KsmRates.between(first, second);
        assertEquals(2.0, rates.elapsedSeconds(), 1e-9);
        assertEquals(150.0, rates.pagesMergedPerSecond().getAsDouble(), 1e-9);
        assertEquals(60.0, rates.fullScansPerMinute().getAsDouble(), 1e-9);
        assertEquals(10_000.0, rates.pagesScannedPerSecond().getAsDouble(), 1e-9);
    }

    @Test
    void aCounterThatWentBackwardsHasNoRate() {
        Map<String, String> a = counters(1, 1, 0, 0);
        a.put("full_scans", "9\n");
        Map<String, String> b = counters(1, 1, 0, 0);
        b.put("full_scans", "3\n");
        KsmRates rates = KsmRates.between(
                new KsmSample(Instant.EPOCH, 0, PAGE, stats(a)),
                new KsmSample(Instant.EPOCH, 1_000_000_000L, PAGE, stats(b)));
        assertEquals(OptionalDouble.empty(), rates.fullScansPerMinute());
        assertEquals(OptionalDouble.empty(), rates.pagesScannedPerSecond(), "absent counter, absent rate");
        assertThrows(
                IllegalArgumentException.class,
                () -> KsmRates.between(
                        new KsmSample(Instant.EPOCH, 5, PAGE, stats(a)),
                        new KsmSample(Instant.EPOCH, 5, PAGE, stats(b))));
    }
}
