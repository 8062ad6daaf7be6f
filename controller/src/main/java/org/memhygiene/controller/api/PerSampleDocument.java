package org.memhygiene.controller.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.memhygiene.core.host.HostSnapshot;

/**
 * A document of the latest sample, written once per sample however many requests ask for it between two
 * samples: the snapshot of 50 VMs is a few hundred KB of JSON, several ms to write (docs/PERFORMANCE.md).
 * Thread-safe: requests race only to write the same text.
 */
final class PerSampleDocument {
    @FunctionalInterface
    interface Writer {
        String write(HostSnapshot snapshot) throws JsonProcessingException;
    }

    private record Written(HostSnapshot snapshot, String text) {}

    private final Writer writer;
    private volatile Written last;

    PerSampleDocument(Writer writer) {
        this.writer = writer;
    }

    String of(HostSnapshot snapshot) throws JsonProcessingException {
        Written written = last;
        if (written == null || written.snapshot() != snapshot) {
            written = new Written(snapshot, writer.write(snapshot));
            last = written;
        }
        return written.text();
    }
}
