package org.memhygiene.controller.daemon;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import org.memhygiene.controller.history.History;

/**
 * GET /api/v1/history?from=ISO&amp;to=ISO[&amp;vm=NAME]: the host's (or one VM's) samples in [from, to), and
 * GET /api/v1/history/decisions: the policy's decisions; default the last hour.
 */
final class HistoryQuery {
    private HistoryQuery() {}

    static Object view(History history, Map<String, String> query) {
        Instant[] range = range(query);
        return query.containsKey("vm")
                ? Map.of("vm", query.get("vm"), "points", history.vmSeries(query.get("vm"), range[0], range[1]))
                : Map.of("points", history.hostSeries(range[0], range[1]));
    }

    /** GET /api/v1/history/decisions?from=ISO&amp;to=ISO: the policy's recorded decisions in [from, to). */
    static Object decisions(History history, Map<String, String> query) {
        Instant[] range = range(query);
        return Map.of("decisions", history.decisions(range[0], range[1]));
    }

    /** The earliest and latest time a query may name: the history holds nothing outside them. */
    static final Instant EARLIEST = Instant.EPOCH;

    static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    private static Instant[] range(Map<String, String> query) {
        Instant to = query.containsKey("to") ? instant(query, "to") : Instant.now();
        Instant from = query.containsKey("from") ? instant(query, "from") : to.minus(Duration.ofHours(1));
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("from (" + from + ") must be before to (" + to + ")");
        }
        return new Instant[] {from, to};
    }

    /** An ISO-8601 instant within [EARLIEST, LATEST]; anything else names the parameter (a 400). */
    private static Instant instant(Map<String, String> query, String name) {
        String text = query.get(name);
        Instant at;
        try {
            at = Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    name + " = " + abbreviate(text) + ": expected an ISO-8601 time such as" + " 2026-12-01T07:00:00Z",
                    e);
        }
        if (at.isBefore(EARLIEST) || at.isAfter(LATEST)) {
            throw new IllegalArgumentException(
                    name + " = " + abbreviate(text) + ": expected a time from " + EARLIEST + " to " + LATEST);
        }
        return at;
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
