package org.memhygiene.core.protocol;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.canary.CanaryTimings.PageWrites;
import org.memhygiene.core.canary.CanaryTimings.WriteSummary;

class CanaryMessagesTest {
    /** The largest canary-time reply there can be still fits the line limit both sides enforce. */
    @Test
    void theLargestTimingReplyFitsOneLine() {
        int pages = CanaryBounds.MAX_PAGES;
        List<Integer> indices = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        List<Long> nanos = new ArrayList<>();
        for (int i = 0; i < pages; i++) {
            indices.add(i);
            positions.add(2 * pages - 1 - i);
            nanos.add(Long.MAX_VALUE);
        }
        WriteSummary summary = new WriteSummary(pages, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
        PageWrites writes = new PageWrites(indices, positions, nanos, summary);
        String line = AgentProtocol.result(
                "x".repeat(120),
                new CanaryTimings("ab".repeat(CanaryBounds.MAX_NONCE_BYTES), Long.MAX_VALUE, writes, writes));
        int bytes = line.getBytes(StandardCharsets.UTF_8).length + 1;
        assertTrue(bytes <= AgentProtocol.MAX_LINE_BYTES, bytes + " bytes");
        System.out.println("largest canary-time reply: " + bytes + " of " + AgentProtocol.MAX_LINE_BYTES + " bytes");
    }
}
