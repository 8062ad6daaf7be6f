package org.memhygiene.core.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.List;
import org.memhygiene.core.canary.CanaryPlanted;
import org.memhygiene.core.canary.CanaryReleased;
import org.memhygiene.core.canary.CanaryTimings;

/**
 * The canary's results as Json.mapper() writes them (snake_case, component order), for
 * {@link AgentProtocol#result}; the agreement test in the controller holds the two byte-identical.
 */
final class CanaryMessages {
    private CanaryMessages() {}

    static boolean isCanaryResult(Object value) {
        return value instanceof CanaryPlanted || value instanceof CanaryTimings || value instanceof CanaryReleased;
    }

    static void write(JsonGenerator g, Object value) throws IOException {
        if (value instanceof CanaryPlanted planted) {
            g.writeStartObject();
            g.writeStringField("nonce", planted.nonce());
            g.writeNumberField("canary_pages", planted.canaryPages());
            g.writeNumberField("control_pages", planted.controlPages());
            g.writeNumberField("page_size_bytes", planted.pageSizeBytes());
            g.writeStringField("derivation", planted.derivation());
            g.writeNumberField("lease_millis", planted.leaseMillis());
            g.writeNumberField("locked_bytes", planted.lockedBytes());
            g.writeEndObject();
        } else if (value instanceof CanaryTimings timings) {
            g.writeStartObject();
            g.writeStringField("nonce", timings.nonce());
            g.writeNumberField("clock_resolution_nanos", timings.clockResolutionNanos());
            g.writeFieldName("canary");
            writePageWrites(g, timings.canary());
            g.writeFieldName("control");
            writePageWrites(g, timings.control());
            g.writeEndObject();
        } else if (value instanceof CanaryReleased released) {
            g.writeStartObject();
            g.writeStringField("nonce", released.nonce());
            g.writeNumberField("released_bytes", released.releasedBytes());
            g.writeEndObject();
        } else {
            throw new IllegalArgumentException(
                    "not a canary result: " + value.getClass().getName());
        }
    }

    private static void writePageWrites(JsonGenerator g, CanaryTimings.PageWrites writes) throws IOException {
        g.writeStartObject();
        writeNumbers(g, "page_indices", writes.pageIndices());
        writeNumbers(g, "write_positions", writes.writePositions());
        writeNumbers(g, "nanos", writes.nanos());
        CanaryTimings.WriteSummary summary = writes.summary();
        g.writeObjectFieldStart("summary");
        g.writeNumberField("count", summary.count());
        g.writeNumberField("min_nanos", summary.minNanos());
        g.writeNumberField("median_nanos", summary.medianNanos());
        g.writeNumberField("p90_nanos", summary.p90Nanos());
        g.writeNumberField("max_nanos", summary.maxNanos());
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void writeNumbers(JsonGenerator g, String field, List<? extends Number> numbers) throws IOException {
        g.writeArrayFieldStart(field);
        for (Number number : numbers) {
            g.writeNumber(number.longValue());
        }
        g.writeEndArray();
    }
}
