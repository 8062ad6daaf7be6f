package org.memhygiene.core.procmem;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A /proc file of native-endian 64-bit entries read by position: /proc/PID/pagemap (indexed by virtual
 * page), /proc/kpageflags and /proc/kpagecount (indexed by PFN). Each {@link #read} is one pread(2) per
 * {@code scratch} buffer's worth of entries; the kernel refuses reads that are not 8-byte aligned
 * (Documentation/admin-guide/mm/pagemap.rst, "Other notes"). Not thread-safe: the scratch buffer is shared.
 */
final class U64File implements AutoCloseable {
    private final Path path;
    private FileChannel channel;
    private final ByteBuffer scratch;
    private final LongBuffer longs;

    private U64File(Path path, FileChannel channel, ByteBuffer scratch) {
        this.path = path;
        this.channel = channel;
        this.scratch = scratch;
        // The view spans the whole buffer whatever another reader sharing it left as position and limit.
        this.longs = scratch.duplicate().clear().order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    /** @param scratch a direct buffer whose capacity (a multiple of 8) bounds the entries one syscall reads */
    static U64File open(Path path, ByteBuffer scratch) {
        if (!scratch.isDirect() || scratch.capacity() < 8 || scratch.capacity() % 8 != 0) {
            throw new IllegalArgumentException(
                    "scratch must be a direct buffer of a multiple of 8 bytes, got " + scratch);
        }
        return new U64File(path, openChannel(path), scratch);
    }

    private static FileChannel openChannel(Path path) {
        try {
            return FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw ProcMemException.of(path, e);
        }
    }

    Path path() {
        return path;
    }

    int capacityEntries() {
        return scratch.capacity() / 8;
    }

    /**
     * Reads entries {@code [firstIndex, firstIndex + count)} into {@code out[offset…]}; returns how many
     * it read, fewer only where the file ends (past the last PFN; a process that exited reads as empty).
     */
    int read(long firstIndex, long[] out, int offset, int count) {
        if (!channel.isOpen()) {
            // An interrupt of the reading thread closes a FileChannel for good; a later read opens it again.
            channel = openChannel(path);
        }
        int done = 0;
        while (done < count) {
            int wanted = Math.min(count - done, capacityEntries());
            long position = (firstIndex + done) * 8;
            scratch.clear().limit(wanted * 8);
            try {
                while (scratch.hasRemaining()) {
                    int read = channel.read(scratch, position + scratch.position());
                    if (read <= 0) {
                        break;
                    }
                }
            } catch (IOException e) {
                throw ProcMemException.of(path, e);
            }
            int entries = scratch.position() / 8;
            longs.get(0, out, offset + done, entries);
            done += entries;
            if (entries < wanted) {
                break;
            }
        }
        return done;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Closing a read-only /proc file cannot lose data.
        }
    }
}
