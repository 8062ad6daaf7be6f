package org.memhygiene.controller.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.canary.CanaryTimings.PageWrites;
import org.memhygiene.core.canary.CanaryTimings.WriteSummary;

/**
 * A guest is untrusted: timings that are not of the canary the host planted are not used. The replies here are
 * what a lying agent would send (a real agent cannot be made to lie; the parsing of real replies is
 * AgentLink's and RealKsmDedupProbeTest's).
 */
class DedupProbeTest {
    private static final String NONCE = "ab".repeat(32);

    private static PageWrites writes(List<Integer> indices, long nanos) {
        List<Long> times = indices.stream().map(i -> nanos).toList();
        return new PageWrites(
                indices,
                IntStream.range(0, indices.size()).boxed().toList(),
                times,
                WriteSummary.of(times.stream().mapToLong(Long::longValue).toArray()));
    }

    private static List<Integer> each(int pages) {
        return IntStream.range(0, pages).boxed().toList();
    }

    @Test
    void timingsOfThePlantedCanaryAreUsed() {
        CanaryTimings honest = new CanaryTimings(NONCE, 1, writes(each(4), 4000), writes(each(4), 150));
        assertEquals(Optional.empty(), DedupProbe.inconsistency(honest, NONCE.toUpperCase(), 4));
    }

    @Test
    void timingsOfOtherPagesAnotherNonceOrAnotherCountAreRefused() {
        CanaryTimings otherPages = new CanaryTimings(NONCE, 1, writes(List.of(0, 1, 2, 7), 4000), writes(each(4), 150));
        assertTrue(DedupProbe.inconsistency(otherPages, NONCE, 4).orElseThrow().contains("did not plant"));
        CanaryTimings twice = new CanaryTimings(NONCE, 1, writes(List.of(0, 0, 1, 2), 4000), writes(each(4), 150));
        assertTrue(DedupProbe.inconsistency(twice, NONCE, 4).orElseThrow().contains("did not plant"));
        CanaryTimings fewer = new CanaryTimings(NONCE, 1, writes(each(3), 4000), writes(each(4), 150));
        assertTrue(DedupProbe.inconsistency(fewer, NONCE, 4).orElseThrow().contains("not 4"));
        CanaryTimings otherNonce = new CanaryTimings("cd".repeat(32), 1, writes(each(4), 4000), writes(each(4), 150));
        assertTrue(DedupProbe.inconsistency(otherNonce, NONCE, 4).orElseThrow().contains("another nonce"));
        CanaryTimings negative = new CanaryTimings(NONCE, 1, writes(each(4), -5), writes(each(4), 150));
        assertTrue(DedupProbe.inconsistency(negative, NONCE, 4).orElseThrow().contains("negative"));
    }
}
