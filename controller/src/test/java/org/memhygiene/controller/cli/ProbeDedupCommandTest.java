package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.probe.DedupProbeReport;

/** The text of {@code memhygiene probe dedup}. */
class ProbeDedupCommandTest {
    @Test
    void theTextGivesTheProbesTimeToTheSecond() {
        Instant measuredAt = Instant.parse("2026-12-07T20:21:09.974565641Z");
        DedupProbeReport report = new DedupProbeReport(
                "00".repeat(32),
                256,
                4096,
                measuredAt.minusSeconds(600),
                measuredAt,
                new DedupProbeReport.KsmAtProbe(1, false, true, true, 3, 3, "3 full scans"),
                "pagemap+kpageflags",
                List.of(new DedupProbeReport.VmProbe(
                        "a",
                        "uuid-a",
                        DedupProbeReport.Outcome.PROBED,
                        "",
                        Optional.of(new DedupProbeReport.HostTruth(256, 256, 256)),
                        Optional.empty(),
                        DedupProbeReport.Verdict.OBSERVED)),
                List.of());
        String first = ProbeDedupCommand.text(report).lines().findFirst().orElseThrow();
        assertEquals(
                "Deduplication probe, measured 2026-12-07T20:21:09Z: 256 canary and 256 control pages of 4.0 KiB per VM",
                first);
    }
}
