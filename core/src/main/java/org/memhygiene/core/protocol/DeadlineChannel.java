package org.memhygiene.core.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A non-blocking socket channel as an input and an output stream that give up at a deadline. Java's
 * unix-domain socket channels have no SO_TIMEOUT, and a peer that sends nothing, one byte a second, or
 * reads nothing of what it is sent must cost a bounded wait, not a thread forever: the controller's
 * side of an agent link, and the agent's side of a socket peer (its idle timeout), both read and write
 * through this. Not thread-safe: one reader and writer at a time.
 */
public final class DeadlineChannel {
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private long deadlineNanos = Long.MAX_VALUE;

    /** {@code channel} must be non-blocking and not registered with {@code selector} yet. */
    public DeadlineChannel(SocketChannel channel, Selector selector) throws IOException {
        this.channel = channel;
        this.selector = selector;
        this.key = channel.register(selector, SelectionKey.OP_READ);
    }

    /** Every read and write after this fails with SocketTimeoutException once {@code deadlineNanos} (System.nanoTime) passed. */
    public void deadline(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

    public InputStream in() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] bytes, int offset, int length) throws IOException {
                ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
                while (true) {
                    int read = channel.read(buffer);
                    if (read != 0) {
                        return read;
                    }
                    await(SelectionKey.OP_READ, "no reply within the read timeout");
                }
            }
        };
    }

    /** Writes wait for room in the socket (a peer that does not read fills it) until the deadline. */
    public OutputStream out() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
                while (buffer.hasRemaining()) {
                    if (channel.write(buffer) == 0) {
                        await(SelectionKey.OP_WRITE, "the peer reads nothing: write timed out");
                    }
                }
            }
        };
    }

    private void await(int operation, String timeoutMessage) throws IOException {
        long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
        if (leftMillis <= 0) {
            throw new SocketTimeoutException(timeoutMessage);
        }
        key.interestOps(operation);
        selector.select(leftMillis);
        selector.selectedKeys().clear();
    }
}
