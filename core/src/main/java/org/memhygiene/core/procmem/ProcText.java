package org.memhygiene.core.procmem;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Reads a /proc text file whole, refusing one larger than a bound (a /proc file has no size to check first). */
final class ProcText {
    private ProcText() {}

    static String read(Path file, int maxBytes) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[Math.min(maxBytes, 64 * 1024)];
            int length = 0;
            while (true) {
                if (length == buffer.length) {
                    if (length == maxBytes) {
                        if (in.read() < 0) {
                            break;
                        }
                        throw new ProcMemException(
                                ProcMemException.Kind.MALFORMED, file, "larger than " + maxBytes + " bytes");
                    }
                    buffer = Arrays.copyOf(buffer, (int) Math.min(maxBytes, 2L * buffer.length));
                }
                int read = in.read(buffer, length, buffer.length - length);
                if (read < 0) {
                    break;
                }
                length += read;
            }
            return new String(buffer, 0, length, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw ProcMemException.of(file, e);
        }
    }
}
