package org.memhygiene.controller.agentlink;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.memhygiene.core.agent.AgentLinkException;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.protocol.AgentProtocol;
import org.memhygiene.core.protocol.BoundedLineReader;
import org.memhygiene.core.protocol.DeadlineChannel;

/**
 * One connection to a guest agent through its channel's host-side unix socket (docs/PROTOCOL.md).
 * Everything the guest sends is untrusted: lines are bounded to {@link AgentProtocol#MAX_LINE_BYTES},
 * every call has a deadline, replies to other ids are skipped but counted, and a reply must match the
 * record it claims to be. Any breach ends the call with an {@link AgentLinkException} whose status says
 * which kind; the caller then drops the connection. Not thread-safe: one call at a time.
 */
final class AgentConnection implements AutoCloseable {
    /** Lines that are not the awaited reply (stale replies, chatter) tolerated within one call. */
    static final int MAX_STRAY_LINES_PER_CALL = 16;
    /** How long a hello waits for its reply before it is sent again (see {@link #hello}). */
    static final Duration HELLO_RESEND = Duration.ofMillis(250);
    /** Unknown result fields are allowed (newer agents add them); missing or mistyped ones are not. */
    private static final ObjectReader RESULTS = Json.mapper()
            .reader()
            .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .with(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .with(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .with(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .without(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    private static final ObjectWriter LINE = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);

    private final Path socket;
    private final SocketChannel channel;
    private final Selector selector;
    private final DeadlineChannel io;
    private final BoundedLineReader lines;
    private final AtomicLong ids;

    private AgentConnection(Path socket, SocketChannel channel, Selector selector, AtomicLong ids) throws IOException {
        this.socket = socket;
        this.channel = channel;
        this.selector = selector;
        this.io = new DeadlineChannel(channel, selector);
        this.lines = new BoundedLineReader(io.in(), AgentProtocol.MAX_LINE_BYTES);
        this.ids = ids;
    }

    /**
     * Connects within {@code timeout}. {@code ids} numbers requests across reconnects, so a late reply
     * to a request of an earlier connection can never be taken for the answer to a new one.
     */
    static AgentConnection open(Path socket, Duration timeout, AtomicLong ids) throws AgentLinkException {
        SocketChannel channel = null;
        Selector selector = null;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.configureBlocking(false);
            selector = Selector.open();
            if (!channel.connect(UnixDomainSocketAddress.of(socket))) {
                channel.register(selector, SelectionKey.OP_CONNECT);
                if (selector.select(Math.max(1, timeout.toMillis())) == 0 || !channel.finishConnect()) {
                    throw new SocketTimeoutException("connect timed out");
                }
                selector.selectedKeys().clear();
                channel.keyFor(selector).cancel();
                selector.selectNow(); // flush the cancelled key before registering for reads
            }
            return new AgentConnection(socket, channel, selector, ids);
        } catch (IOException e) {
            closeQuietly(channel, selector);
            throw new AgentLinkException(AgentStatus.UNREACHABLE, socket + ": cannot connect: " + e.getMessage(), e);
        }
    }

    /**
     * Sends one request and waits until {@code deadlineNanos} (System.nanoTime) for its reply, which is
     * converted to {@code resultType}.
     */
    <T> T call(String command, ObjectNode arguments, JavaType resultType, long deadlineNanos)
            throws AgentLinkException {
        return exchange(command, arguments, resultType, deadlineNanos, Long.MAX_VALUE);
    }

    /**
     * hello, sent again with a new id whenever {@link #HELLO_RESEND} (then twice as long, and so on) passes
     * without a reply; the reply to any of them is the answer. An agent that saw the host's previous
     * connection end closes and reopens its port, and the guest's kernel discards what arrived in between
     * (drivers/char/virtio_console.c, port_fops_release calls discard_port_data): a new connection's first
     * line can be lost. hello changes nothing in the agent, so sending it again is safe.
     */
    <T> T hello(JavaType resultType, long deadlineNanos) throws AgentLinkException {
        return exchange("hello", null, resultType, deadlineNanos, HELLO_RESEND.toNanos());
    }

    private <T> T exchange(
            String command, ObjectNode arguments, JavaType resultType, long deadlineNanos, long resendAfterNanos)
            throws AgentLinkException {
        List<Long> sent = new ArrayList<>();
        try {
            send(command, arguments, sent, deadlineNanos);
            for (int stray = 0; stray <= MAX_STRAY_LINES_PER_CALL; ) {
                long now = System.nanoTime();
                long readUntil = resendAfterNanos < deadlineNanos - now ? now + resendAfterNanos : deadlineNanos;
                io.deadline(readUntil);
                BoundedLineReader.Line line;
                try {
                    line = lines.next();
                } catch (SocketTimeoutException e) {
                    // Decided by which wait ended, not by the clock: the channel gives up with under 1 ms left.
                    if (readUntil == deadlineNanos) {
                        throw e;
                    }
                    send(command, arguments, sent, deadlineNanos);
                    resendAfterNanos *= 2;
                    continue;
                }
                if (line == null) {
                    throw new AgentLinkException(AgentStatus.UNREACHABLE, command + ": the channel closed");
                }
                if (line.problem() != BoundedLineReader.Line.Problem.NONE) {
                    throw misbehaving(
                            command,
                            line.problem() == BoundedLineReader.Line.Problem.TOO_LONG
                                    ? "a line longer than " + AgentProtocol.MAX_LINE_BYTES + " bytes"
                                    : "a line that is not UTF-8");
                }
                JsonNode reply = parse(command, line.text());
                if (reply.path("id").isIntegralNumber()
                        && sent.contains(reply.get("id").asLong())) {
                    return result(command, reply, resultType);
                }
                // A late reply to an earlier request, or chatter: skip it, a bounded number of times.
                stray++;
            }
            throw misbehaving(command, "more than " + MAX_STRAY_LINES_PER_CALL + " lines that were not the reply");
        } catch (SocketTimeoutException e) {
            throw new AgentLinkException(
                    AgentStatus.TIMEOUT,
                    command + ": no reply within the read timeout"
                            + (sent.size() > 1 ? " (sent " + sent.size() + " times)" : ""));
        } catch (IOException e) {
            throw new AgentLinkException(AgentStatus.UNREACHABLE, command + ": " + e.getMessage(), e);
        }
    }

    private void send(String command, ObjectNode arguments, List<Long> sent, long deadlineNanos) throws IOException {
        long id = ids.incrementAndGet();
        io.deadline(deadlineNanos);
        // A guest that does not read fills its socket: the write waits until the deadline at most.
        io.out().write((requestLine(id, command, arguments) + "\n").getBytes(StandardCharsets.UTF_8));
        sent.add(id);
    }

    /** A request as docs/PROTOCOL.md specifies it, one line; the agent reads it with AgentProtocol.parseRequest. */
    static String requestLine(long id, String command, ObjectNode arguments) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("protocol", AgentProtocol.VERSION);
        node.set("id", LongNode.valueOf(id));
        node.put("command", command);
        if (arguments != null) {
            node.set("arguments", arguments);
        }
        try {
            return LINE.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a request: " + e.getMessage(), e);
        }
    }

    private JsonNode parse(String command, String text) throws AgentLinkException {
        try {
            JsonNode reply = Json.mapper().readTree(text);
            if (reply == null || !reply.isObject()) {
                throw misbehaving(command, "a reply that is not a JSON object");
            }
            return reply;
        } catch (JacksonException e) {
            throw misbehaving(command, "a reply that is not JSON (" + e.getOriginalMessage() + ")");
        }
    }

    private <T> T result(String command, JsonNode reply, JavaType resultType) throws AgentLinkException {
        if (reply.path("protocol").asInt(-1) != AgentProtocol.VERSION) {
            throw new AgentLinkException(
                    AgentStatus.AGENT_ERROR,
                    command + ": the agent speaks protocol "
                            + abbreviate(reply.path("protocol").toString()) + ", not " + AgentProtocol.VERSION);
        }
        JsonNode error = reply.get("error");
        if (error != null) {
            throw new AgentLinkException(
                    AgentStatus.AGENT_ERROR,
                    command + ": the agent answered "
                            + abbreviate(error.path("code").asText("?")) + ": "
                            + abbreviate(error.path("message").asText("")));
        }
        JsonNode result = reply.get("result");
        if (result == null) {
            throw misbehaving(command, "a reply with neither result nor error");
        }
        try {
            return RESULTS.forType(resultType).readValue(result);
        } catch (IOException e) {
            throw misbehaving(command, "a result that does not fit the protocol: " + abbreviate(e.getMessage()));
        }
    }

    private AgentLinkException misbehaving(String command, String what) {
        return new AgentLinkException(AgentStatus.MISBEHAVING, command + ": the guest sent " + what);
    }

    private static String abbreviate(String text) {
        return text.length() <= 120 ? text : text.substring(0, 120) + "...";
    }

    Path socket() {
        return socket;
    }

    @Override
    public void close() {
        closeQuietly(channel, selector);
    }

    private static void closeQuietly(SocketChannel channel, Selector selector) {
        try {
            if (selector != null) {
                selector.close();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // closing a socket we are giving up on: nothing left to do
        }
    }
}
