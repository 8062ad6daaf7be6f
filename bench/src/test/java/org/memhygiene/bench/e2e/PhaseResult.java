package org.memhygiene.bench.e2e;

import java.util.List;

/**
 * What a phase measured: its checks (the phase's JUnit test fails when one did not hold) and its rows
 * of the headline table. A phase with a section of its own in the results (a table, a curve) has a
 * result type of its own that {@link ResultsMarkdown} renders.
 */
interface PhaseResult {
    List<Check> checks();

    default List<HeadlineRow> headline() {
        return List.of();
    }
}
