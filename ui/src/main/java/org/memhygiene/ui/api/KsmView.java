package org.memhygiene.ui.api;

import java.util.OptionalLong;

/**
 * The host's KSM counters and knobs the dashboard shows and sets (the `stats` of GET /api/v1/snapshot,
 * as `ksm status --json`); a file the kernel lacks is absent.
 */
public record KsmView(
        OptionalLong pagesSharing,
        OptionalLong zeroPages,
        OptionalLong pagesScanned,
        OptionalLong fullScans,
        OptionalLong run,
        OptionalLong pagesToScan,
        OptionalLong sleepMillisecs,
        OptionalLong useZeroPages) {}
