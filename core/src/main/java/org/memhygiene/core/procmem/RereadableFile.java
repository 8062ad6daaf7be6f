package org.memhygiene.core.procmem;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A small /proc text file read again and again through one open descriptor: each {@link #read} is a
 * pread(2) from offset 0 into the same buffer, which the kernel answers by generating the text anew
 * (seq_file, single_open). For a daemon that reads the same files every second: no open, fstat and close
 * per read, and no buffer per read (Files.readAllBytes allocates 8 KiB for a file whose size /proc reports
 * as 0). Once the process exits, a read of its file fails or reads nothing. Not thread-safe.
 */
public final class RereadableFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final ByteBuffer buffer;

    private RereadableFile(Path path, FileChannel channel, int maxBytes) {
        this.path = path;
        this.channel = channel;
        this.buffer = ByteBuffer.allocate(maxBytes + 1);
    }

    /** Opens {@code path}; a failure is a {@link ProcMemException} (GONE, DENIED, ABSENT, ...). */
    public static RereadableFile open(Path path, int maxBytes) {
        try {
            return new RereadableFile(path, FileChannel.open(path, StandardOpenOption.READ), maxBytes);
        } catch (IOException e) {
            throw ProcMemException.of(path, e);
        }
    }

    public Path path() {
        return path;
    }

    /** The file's text now; empty when it reads nothing (its process exited). */
    public String read() {
        buffer.clear();
        try {
            while (buffer.hasRemaining()) {
                int read = channel.read(buffer, buffer.position());
                if (read <= 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw ProcMemException.of(path, e);
        }
        if (!buffer.hasRemaining()) {
            throw new ProcMemException(
                    ProcMemException.Kind.MALFORMED, path, "larger than " + (buffer.capacity() - 1) + " bytes");
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Closing a read-only /proc file loses nothing.
        }
    }
}
