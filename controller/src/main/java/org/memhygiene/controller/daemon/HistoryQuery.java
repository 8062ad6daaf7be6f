package org.memhygiene.controller.daemon;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.memhygiene.controller.history.History;

/**
 * GET /api/v1/history?from=ISO&amp;to=ISO[&amp;vm=NAME]: the host's (or one VM's) samples in [from, to), and
 * GET /api/v1/history/decisions: the policy's decisions; default the last hour.
 */
final class HistoryQuery {
    private HistoryQuery() {
    }

    static Object view(History history, Map<String, String> query) {
        Instant[] range = range(query);
        return query.containsKey("vm") ? Map.of("vm", query.get("vm"), "points", history.vmSeries(query.get("vm"), range[0], range[1]))
                : Map.of("points", history.hostSeries(range[0], range[1]));
    }

    /** GET /api/v1/history/decisions?from=ISO&amp;to=ISO: the policy's recorded decisions in [from, to). */
    static Object decisions(History history, Map<String, String> query) {
        Instant[] range = range(query);
        return Map.of("decisions", history.decisions(range[0], range[1]));
    }

    private static Instant[] range(Map<String, String> query) {
        Instant to = query.containsKey("to") ? Instant.parse(query.get("to")) : Instant.now();
        Instant from = query.containsKey("from") ? Instant.parse(query.get("from")) : to.minus(Duration.ofHours(1));
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("from (" + from + ") must be before to (" + to + ")");
        }
        return new Instant[] {from, to};
    }
}
