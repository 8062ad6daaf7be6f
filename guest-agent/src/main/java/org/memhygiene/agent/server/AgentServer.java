package org.memhygiene.agent.server;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.core.protocol.AgentProtocol;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;
import org.memhygiene.core.protocol.BoundedLineReader;
import org.memhygiene.core.protocol.DeadlineChannel;

/**
 * Serves the agent protocol on the virtio-serial port, a unix socket or loopback TCP. Whatever a peer
 * sends, the server answers or drops that peer, and goes on serving: lines over 64 KiB are skipped,
 * requests over the rate limit get rate_limited, a closed port is reopened with backoff. On a socket, a
 * peer that sends no whole request, or reads no reply, for the idle timeout is dropped, so that idle
 * peers cannot hold the four places for good.
 */
public final class AgentServer {
    private static final int MAX_CONNECTIONS = 4;
    /** How long a socket peer may take to send its next request line, or to take its reply. */
    public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** S_IFMT and S_IFSOCK of inode(7): the file type bits of st_mode, and the one of a socket. */
    private static final int S_IFMT = 0170000;

    private static final int S_IFSOCK = 0140000;
    /** A virtio port whose host side is away reads as end of file at once, so the agent polls it: once a
     * second costs nothing and bounds how long a host that connects waits for its first reply. */
    private static final long MAX_BACKOFF_MILLIS = 1_000;

    private final AgentRequests requests;
    private final int maxRequestsPerSecond;
    private final long idleTimeoutNanos;
    private final Semaphore connections = new Semaphore(MAX_CONNECTIONS);

    /** @param idleTimeout how long a socket peer may be silent or not read ({@link #IDLE_TIMEOUT} in service) */
    public AgentServer(AgentRequests requests, int maxRequestsPerSecond, Duration idleTimeout) {
        if (maxRequestsPerSecond <= 0) {
            throw new IllegalArgumentException("maxRequestsPerSecond must be positive, was " + maxRequestsPerSecond);
        }
        this.requests = requests;
        this.maxRequestsPerSecond = maxRequestsPerSecond;
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    /** "unix:PATH" or "tcp:127.0.0.1:PORT" (loopback only: the agent is not a network service). */
    public static SocketAddress parseListen(String listen) {
        if (listen.startsWith("unix:") && listen.length() > 5) {
            return UnixDomainSocketAddress.of(listen.substring(5));
        }
        if (listen.startsWith("tcp:")) {
            String hostPort = listen.substring(4);
            int colon = hostPort.lastIndexOf(':');
            if (colon > 0) {
                String host = hostPort.substring(0, colon);
                try {
                    int port = Integer.parseInt(hostPort.substring(colon + 1));
                    if ((host.equals("127.0.0.1") || host.equals("localhost")) && port >= 0 && port <= 65535) {
                        return new InetSocketAddress("127.0.0.1", port);
                    }
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
        }
        throw new IllegalArgumentException(
                "'" + listen + "' is not a listen address: expected unix:PATH or" + " tcp:127.0.0.1:PORT");
    }

    /**
     * Binds now (so the caller knows the address is taken) and returns the bound channel. A unix socket
     * path may hold a stale socket of this user's, left by an agent that was killed: that one is removed;
     * anything else there (a file, a directory, a link, another user's socket, one something listens on)
     * is an IOException naming the path and what is there, and stays.
     */
    public ServerSocketChannel bind(SocketAddress address) throws IOException {
        ServerSocketChannel server;
        if (address instanceof UnixDomainSocketAddress unix) {
            removeStaleSocket(unix);
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            server = ServerSocketChannel.open(StandardProtocolFamily.INET);
        }
        try {
            server.bind(address);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + describe(address) + ": " + Errno.describe(e), e);
        }
        return server;
    }

    /** An address as --listen writes it. */
    private static String describe(SocketAddress address) {
        return address instanceof UnixDomainSocketAddress unix
                ? "unix:" + unix.getPath()
                : address instanceof InetSocketAddress inet
                        ? "tcp:" + inet.getHostString() + ":" + inet.getPort()
                        : address.toString();
    }

    private static void removeStaleSocket(UnixDomainSocketAddress address) throws IOException {
        Path path = address.getPath();
        Map<String, Object> attributes;
        try {
            attributes = Files.readAttributes(path, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        int type = (Integer) attributes.get("mode") & S_IFMT;
        if (type != S_IFSOCK) {
            String what = Files.isSymbolicLink(path)
                    ? "a symbolic link"
                    : Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                            ? "a directory"
                            : Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) ? "a regular file" : "not a socket";
            throw new IOException("cannot listen on unix:" + path + ": it exists and is " + what
                    + "; the agent removes only a stale socket of its own. Remove it, or listen elsewhere");
        }
        long owner = (Integer) attributes.get("uid");
        long self = new UnixSystem().getUid();
        if (owner != self) {
            throw new IOException("cannot listen on unix:" + path + ": it is a socket of uid " + owner + ", not of this"
                    + " agent's uid " + self + "; remove it, or listen elsewhere");
        }
        try (SocketChannel probe = SocketChannel.open(address)) {
            throw new IOException("cannot listen on unix:" + path + ": a process is listening on it (another agent?)");
        } catch (ConnectException e) {
            Files.delete(path); // ECONNREFUSED: nobody listens, the socket is stale
        }
    }

    /** Accepts peers until the channel is closed; each peer gets its own thread, at most four at once. */
    public void serve(ServerSocketChannel server) throws IOException {
        while (server.isOpen()) {
            SocketChannel peer;
            try {
                peer = server.accept();
            } catch (IOException e) {
                if (!server.isOpen()) {
                    return;
                }
                throw e;
            }
            if (!connections.tryAcquire()) {
                peer.close();
                continue;
            }
            Thread thread = new Thread(
                    () -> {
                        try (peer;
                                Selector selector = Selector.open()) {
                            peer.configureBlocking(false);
                            DeadlineChannel io = new DeadlineChannel(peer, selector);
                            converse(io.in(), io.out(), () -> io.deadline(System.nanoTime() + idleTimeoutNanos));
                        } catch (IOException e) {
                            // The peer went away or idled past the timeout; the next one is served all the same.
                        } finally {
                            connections.release();
                        }
                    },
                    "agent-peer");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /**
     * Serves the virtio-serial character device for as long as the agent runs. Reads end when the host
     * side disconnects; the port is then reopened with exponential backoff up to 1 s.
     */
    public void servePort(Path device) throws InterruptedException {
        long backoffMillis = 100;
        String lastProblem = null;
        while (!Thread.currentThread().isInterrupted()) {
            try (FileChannel port = openPort(device)) {
                // The port has a single peer, the host, which may be quiet for as long as it likes.
                if (converse(Channels.newInputStream(port), Channels.newOutputStream(port), () -> {}) > 0) {
                    backoffMillis = 100; // a real session, not the immediate end of file of an absent host
                    lastProblem = null;
                }
            } catch (IOException e) {
                // Said once per kind of problem: a host away for a day must not fill the journal.
                String problem = Errno.describe(e);
                if (!problem.equals(lastProblem)) {
                    System.err.println("memhygiene-agent: " + device + ": " + problem + "; retrying with"
                            + " backoff up to " + MAX_BACKOFF_MILLIS + " ms");
                    lastProblem = problem;
                }
            }
            Thread.sleep(backoffMillis);
            backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
        }
    }

    /**
     * The port, read and write, never created: until udev makes it (the VM has the channel), the path is
     * absent and the agent waits. A regular file there is not a port: read, it would end at once, forever.
     */
    private static FileChannel openPort(Path device) throws IOException {
        if (Files.isRegularFile(device)) {
            throw new IOException("a regular file, not a virtio-serial port (a character device)");
        }
        return FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /**
     * One peer, line by line, until it closes; returns how many lines it sent. Its canary goes with it.
     * {@code nextStep} runs before each line is read and each reply is written (a socket peer's idle
     * timeout starts anew).
     */
    int converse(InputStream in, OutputStream out, Runnable nextStep) throws IOException {
        try (AgentRequests.Session session = requests.openSession()) {
            return converse(in, out, nextStep, session);
        }
    }

    private int converse(InputStream in, OutputStream out, Runnable nextStep, AgentRequests.Session session)
            throws IOException {
        BoundedLineReader reader = new BoundedLineReader(in, AgentProtocol.MAX_LINE_BYTES);
        long windowStartNanos = System.nanoTime();
        int inWindow = 0;
        int lines = 0;
        BoundedLineReader.Line line;
        nextStep.run();
        while ((line = reader.next()) != null) {
            lines++;
            String reply;
            long now = System.nanoTime();
            if (now - windowStartNanos >= 1_000_000_000L) {
                windowStartNanos = now;
                inWindow = 0;
            }
            if (++inWindow > maxRequestsPerSecond) {
                // The id still matters to a host that matches replies by id; reading it costs what a refusal saves.
                Object id =
                        line.problem() == BoundedLineReader.Line.Problem.NONE ? AgentProtocol.idOf(line.text()) : null;
                reply = AgentProtocol.error(
                        id,
                        ErrorCode.RATE_LIMITED,
                        "more than " + maxRequestsPerSecond + " requests in a second; slow down");
            } else {
                reply = switch (line.problem()) {
                    case TOO_LONG ->
                        AgentProtocol.error(
                                null,
                                ErrorCode.LINE_TOO_LONG,
                                "line longer than " + AgentProtocol.MAX_LINE_BYTES + " bytes, skipped");
                    case INVALID_UTF8 -> AgentProtocol.error(null, ErrorCode.INVALID_UTF8, "line is not UTF-8");
                    case NONE -> line.text().isBlank() ? null : session.handle(line.text());
                };
            }
            if (reply != null) {
                nextStep.run();
                out.write((reply + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
            nextStep.run();
        }
        return lines;
    }
}
