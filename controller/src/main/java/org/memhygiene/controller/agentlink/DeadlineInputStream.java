package org.memhygiene.controller.agentlink;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * Reads a non-blocking socket channel as a stream that gives up at a deadline. Java's unix-domain
 * socket channels have no SO_TIMEOUT, and a guest that sends nothing, or one byte a second, must cost
 * the controller a bounded wait, not a thread forever.
 */
final class DeadlineInputStream extends InputStream {
    private final SocketChannel channel;
    private final Selector selector;
    private long deadlineNanos;

    DeadlineInputStream(SocketChannel channel, Selector selector) throws IOException {
        this.channel = channel;
        this.selector = selector;
        channel.register(selector, SelectionKey.OP_READ);
    }

    /** Every read after this fails with SocketTimeoutException once {@code deadlineNanos} (System.nanoTime) passed. */
    void deadline(long deadlineNanos) {
        this.deadlineNanos = deadlineNanos;
    }

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
            long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
            if (leftMillis <= 0) {
                throw new SocketTimeoutException("no reply within the read timeout");
            }
            selector.select(leftMillis);
            selector.selectedKeys().clear();
        }
    }
}
