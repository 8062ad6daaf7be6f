package org.memhygiene.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The results markdown from phase results, and its place in docs/RESULTS.md. */
class ResultsMarkdownTest {
    @TempDir
    Path dir;

    private record Measured(List<HeadlineRow> headline, List<Check> checks) implements PhaseResult {}

    @Test
    void rendersEachPhasesRowsAndEveryCheckWithTheFailedOnesMarkedAfterTheOthers() {
        SuiteResults results = new SuiteResults();
        results.add(new Measured(
                List.of(new HeadlineRow(
                        "no scrub",
                        "g1",
                        270 * Mib.BYTES,
                        Mib.BYTES / 5,
                        27 * Mib.BYTES / 10,
                        null,
                        20_400,
                        3,
                        753_291,
                        270)),
                List.of(new Check(false, "g1 failed here"), new Check(true, "g1 held"))));
        results.add(new Measured(
                List.of(new HeadlineRow(
                        "scrub",
                        "g1",
                        270 * Mib.BYTES,
                        293 * Mib.BYTES,
                        20 * Mib.BYTES,
                        new Watch.Reached(16_240, 5),
                        30_000,
                        6,
                        794_415,
                        1350)),
                List.of(new Check(true, "g1 scrubbed"))));
        results.lap("1 boot");

        String md = ResultsMarkdown.render(results, "TCG (--accel tcg)", "kernel x", 245);

        assertTrue(
                md.contains(
                        "| no scrub | g1 | 270.0 MiB | 0.2 MiB (0 %); KSM-accounted 2.7 MiB | not reached (20 s, 3 full scans watched) | 753291 | 0.27 s |\n"
                                + "| scrub | g1 | 270.0 MiB | 293.0 MiB (109 %); KSM-accounted 20.0 MiB | 16.2 s, 5 full scans | 794415 | 1.35 s |\n"),
                md);
        assertTrue(md.contains("TCG (--accel tcg), 245 s;") && md.contains("Image: kernel x\n"), md);
        assertTrue(md.endsWith("Assertions:\n\n- g1 held\n- g1 scrubbed\n- **FAILED** g1 failed here\n"), md);
        assertTrue(md.contains("- 1 boot: "), md);
    }

    @Test
    void updatingTheDocsReplacesOnlyWhatLiesBetweenTheMarkers() throws Exception {
        Path doc = dir.resolve("RESULTS.md");
        Files.writeString(
                doc,
                "# Results\nprose before\n<!-- e2e:begin -->\nold table\nold line\n<!-- e2e:end -->\nprose after\n");

        ResultsMarkdown.updateDocs(doc, "new table\n");

        assertEquals(
                "# Results\nprose before\n<!-- e2e:begin -->\nnew table\n<!-- e2e:end -->\nprose after\n",
                Files.readString(doc));
    }

    @Test
    void aDocWithoutTheMarkersIsAnErrorNamingItAndIsLeftAsItWas() throws Exception {
        Path doc = dir.resolve("RESULTS.md");
        Files.writeString(doc, "# Results\n<!-- e2e:begin -->\nno end marker\n");

        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> ResultsMarkdown.updateDocs(doc, "new\n"));

        assertTrue(
                e.getMessage()
                        .startsWith(doc + ": expected a line <!-- e2e:begin --> followed by a line <!-- e2e:end -->"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("found no <!-- e2e:end --> after it"), e.getMessage());
        assertEquals("# Results\n<!-- e2e:begin -->\nno end marker\n", Files.readString(doc));
    }
}
