package org.memhygiene.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.memhygiene.controller.policy.Samples;
import org.memhygiene.core.host.HostSnapshot;

class PerSampleDocumentTest {
    private static HostSnapshot sample(Instant at) {
        return Samples.empty(at, "test:///");
    }

    @Test
    void aSampleIsWrittenOnceHoweverOftenItIsAskedForAndANewSampleAgain() throws Exception {
        AtomicInteger writes = new AtomicInteger();
        PerSampleDocument document = new PerSampleDocument(
                s -> "{\"at\":\"" + s.sampledAt() + "\",\"write\":" + writes.incrementAndGet() + "}");
        HostSnapshot first = sample(Instant.EPOCH);
        assertEquals("{\"at\":\"1970-01-01T00:00:00Z\",\"write\":1}", document.of(first));
        assertEquals("{\"at\":\"1970-01-01T00:00:00Z\",\"write\":1}", document.of(first));
        // An equal record of another sample is another sample: the cache goes by the loop's object, not equality.
        assertEquals("{\"at\":\"1970-01-01T00:00:00Z\",\"write\":2}", document.of(sample(Instant.EPOCH)));
        assertEquals("{\"at\":\"1970-01-01T00:00:01Z\",\"write\":3}", document.of(sample(Instant.ofEpochSecond(1))));
        assertEquals(3, writes.get());
    }
}
