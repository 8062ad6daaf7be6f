package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;

class LibvirtHostTest {

    @Test
    void keepsOneLiveConnection() throws Exception {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            Connect first = host.connection();
            assertTrue(first.isAlive());
            assertSame(first, host.connection());
        }
    }

    @Test
    void reconnectsWhenTheConnectionIsLost() throws Exception {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            Connect first = host.connection();
            first.close(); // as when libvirtd restarts: the old connection is dead
            Connect second = host.connection();
            assertNotSame(first, second);
            assertTrue(second.isAlive());
            assertEquals(1, second.listAllDomains(0).length);
        }
    }

    @Test
    void passesUrisThroughUnchanged() {
        for (String uri : List.of(
                "qemu:///system",
                "qemu:///session",
                "test:///default",
                "test:///abs/path/file.xml",
                "qemu+ssh://root@example.org/system")) {
            try (LibvirtHost host = new LibvirtHost(uri)) {
                assertEquals(uri, host.uri());
            }
        }
        assertEquals("qemu:///system", LibvirtHost.DEFAULT_URI);
    }

    @Test
    void onlyAUriWithoutHostOrRemoteTransportIsThisMachine() {
        for (String local : List.of("qemu:///system", "qemu:///session", "test:///default", "qemu+unix:///system")) {
            assertTrue(LibvirtHost.isLocal(local), local);
        }
        for (String remote : List.of(
                "qemu+ssh://root@host/system",
                "qemu+tcp://host/system",
                "qemu://host/system",
                "qemu+ssh://localhost/system")) {
            assertFalse(LibvirtHost.isLocal(remote), remote);
        }
    }

    @Test
    void badUriFailsAtOnceNamingUriOperationAndLibvirtsMessage() {
        String uri = "test:///nonexistent/file.xml";
        List<Duration> waits = new ArrayList<>();
        ReconnectPolicy policy = new ReconnectPolicy(Duration.ofMillis(10), Duration.ofMillis(30), 5);
        long silencedBefore = LibvirtHost.silencedErrors();
        try (LibvirtHost host = new LibvirtHost(uri, policy, waits::add)) {
            LibvirtAccessException e = assertThrows(LibvirtAccessException.class, host::connection);
            assertEquals(
                    "libvirt on test:///nonexistent/file.xml: open connection failed: "
                            + "XML error: failed to parse xml document '/nonexistent/file.xml'",
                    e.getMessage());
            assertEquals(uri, e.uri());
            assertEquals("open connection", e.operation());
            assertEquals("XML error: failed to parse xml document '/nonexistent/file.xml'", e.libvirtMessage());
            assertTrue(e.code().isPresent());
        }
        assertEquals(List.of(), waits, "a first open is not retried: the URI is the admin's to fix");
        // libvirt handed the failure to our handler instead of printing it on stderr.
        assertTrue(
                LibvirtHost.silencedErrors() >= silencedBefore + 1,
                "silenced " + (LibvirtHost.silencedErrors() - silencedBefore));
    }

    /**
     * Real sockets: one path with no file, and one whose daemon is gone (a Unix socket bound and closed, as
     * a killed libvirtd leaves it). On this machine libvirt's message gets how to start a daemon; a remote
     * URI's refusal is another machine's, and gets none.
     */
    @Test
    void noDaemonOnThisMachinesSocketSaysHowToStartOne(@TempDir Path dir) throws Exception {
        Path absent = dir.resolve("absent-sock");
        Path dead = dir.resolve("dead-sock");
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(dead));
        }
        for (Path socket : List.of(absent, dead)) {
            String uri = "qemu:///system?socket=" + socket;
            String libvirtMessage = "Failed to connect socket to '" + socket + "': "
                    + (socket.equals(absent) ? "No such file or directory" : "Connection refused");
            try (LibvirtHost host = TestHosts.open(uri)) {
                LibvirtAccessException e = assertThrows(LibvirtAccessException.class, host::connection);
                assertEquals(
                        "libvirt on " + uri + ": open connection failed: " + libvirtMessage
                                + "; no libvirt daemon is running here: start libvirtd (systemctl start libvirtd;"
                                + " virtqemud where libvirt runs its modular daemons)",
                        e.getMessage());
                assertEquals(libvirtMessage, e.libvirtMessage());
            }
        }
        String remote = "qemu+tcp://127.0.0.1:1/system";
        try (LibvirtHost host = TestHosts.open(remote)) {
            LibvirtAccessException e = assertThrows(LibvirtAccessException.class, host::connection);
            assertTrue(e.getMessage().endsWith(": Connection refused"), e.getMessage());
        }
    }

    @Test
    void aLostConnectionIsReopenedWithBackoffAndGivenUpOnWithAClearError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("host.xml");
        Files.copy(Path.of("src/test/resources/libvirt/test-host.xml"), file);
        String uri = "test://" + file;
        List<Duration> waits = new ArrayList<>();
        ReconnectPolicy policy = new ReconnectPolicy(Duration.ofMillis(10), Duration.ofMillis(30), 5);
        try (LibvirtHost host = new LibvirtHost(uri, policy, waits::add)) {
            host.connection().close(); // the connection is lost ...
            Files.delete(file); // ... and the host does not come back
            LibvirtAccessException e = assertThrows(LibvirtAccessException.class, host::connection);
            assertEquals("reopen connection (5 attempts)", e.operation());
            assertTrue(
                    e.getMessage().startsWith("libvirt on " + uri + ": reopen connection (5 attempts) failed: "),
                    e.getMessage());
        }
        assertEquals(
                List.of(Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(30), Duration.ofMillis(30)),
                waits);
    }

    @Test
    void libvirtPrintsNothingOnStderr(@TempDir Path dir) throws Exception {
        String printed = StderrCapture.capture(dir.resolve("stderr"), () -> {
            for (String uri : List.of("test:///nonexistent/file.xml", "bogus:///nowhere")) {
                try (LibvirtHost host = TestHosts.open(uri)) {
                    assertThrows(LibvirtAccessException.class, host::connection);
                }
            }
            try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
                assertThrows(LibvirtException.class, () -> host.connection().domainLookupByName("nope"));
                assertThrows(LibvirtAccessException.class, () -> new NodeMemoryTuning(host).read());
            }
        });
        assertEquals("", printed);
    }

    @Test
    void missingDomainIsANoDomainError() throws Exception {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            LibvirtException raw =
                    assertThrows(LibvirtException.class, () -> host.connection().domainLookupByName("no-such-domain"));
            LibvirtAccessException e = LibvirtAccessException.of(host.uri(), "look up domain no-such-domain", raw);
            assertTrue(e.isNoDomain());
            assertEquals(ErrorNumber.VIR_ERR_NO_DOMAIN, e.code().orElseThrow());
            assertTrue(
                    e.getMessage().startsWith("libvirt on test:///default: look up domain no-such-domain failed: "),
                    e.getMessage());
        }
    }

    @Test
    void reconnectPolicyDoublesUpToTheCap() {
        ReconnectPolicy policy = ReconnectPolicy.DEFAULT;
        assertEquals(Duration.ofSeconds(1), policy.next(Duration.ofMillis(500)));
        assertEquals(Duration.ofSeconds(30), policy.next(Duration.ofSeconds(16)));
        assertEquals(Duration.ofSeconds(30), policy.next(Duration.ofSeconds(30)));
        assertThrows(
                IllegalArgumentException.class,
                () -> new ReconnectPolicy(Duration.ofSeconds(2), Duration.ofSeconds(1), 3));
        assertThrows(IllegalArgumentException.class, () -> new ReconnectPolicy(Duration.ZERO, Duration.ZERO, 0));
    }
}
