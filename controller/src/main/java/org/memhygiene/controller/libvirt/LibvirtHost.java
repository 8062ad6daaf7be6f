package org.memhygiene.controller.libvirt;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.PointerType;
import java.lang.reflect.Field;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.libvirt.jna.Libvirt;
import org.libvirt.jna.virError;

/**
 * One libvirt connection URI and a live connection to it. The URI is passed to libvirt unchanged
 * ({@code qemu:///system}, {@code qemu:///session}, {@code test:///default}, {@code test:///abs/file.xml},
 * {@code qemu+ssh://host/system}, see https://libvirt.org/uri.html).
 *
 * <p>{@link #connection()} returns a live connection: when the last one is gone (libvirtd restarted,
 * the ssh tunnel dropped) it reopens it, waiting between attempts by the {@link ReconnectPolicy}, and
 * after the last attempt throws a {@link LibvirtAccessException} naming the URI and libvirt's message.
 *
 * <p>libvirt prints every error to stderr unless a handler is set
 * (https://libvirt.org/errors.html#reporting-errors, virSetErrorFunc). Constructing a host installs one
 * process-wide handler that only counts: libvirt-java still reads each error with virGetLastError and
 * throws it, and we turn it into our exception.
 */
public final class LibvirtHost implements AutoCloseable {
    public static final String DEFAULT_URI = "qemu:///system";

    /** The process-wide handler; a static field because libvirt keeps the JNA callback for the process. */
    private static final SilentErrorHandler ERROR_HANDLER = new SilentErrorHandler();
    /** Kept for the same reason: libxml2 holds it for every thread that opened a connection. */
    private static final Libxml2.GenericErrorFunc XML_WARNING_SINK = (context, message) -> {};

    private final String uri;
    private final ReconnectPolicy policy;
    private final Sleeper sleeper;
    private Connect connect;

    /** How long to wait before reconnect attempts; the tests pass one that records instead of sleeping. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;
    }

    private boolean everConnected;

    public LibvirtHost(String uri, ReconnectPolicy policy, Sleeper sleeper) {
        this.uri = Objects.requireNonNull(uri, "uri");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        installErrorHandler(uri);
    }

    public LibvirtHost(String uri) {
        this(uri, ReconnectPolicy.DEFAULT, d -> Thread.sleep(d.toMillis()));
    }

    /**
     * Whether {@code uri} names this machine: no host part and no remote transport (qemu+ssh://,
     * qemu+tcp://...; https://libvirt.org/uri.html). Only then are /sys/kernel/mm/ksm and /proc here the
     * host's.
     */
    public static boolean isLocal(String uri) {
        URI parsed = URI.create(uri);
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme();
        boolean remoteTransport = scheme.contains("+") && !scheme.endsWith("+unix");
        return !remoteTransport && (parsed.getHost() == null || parsed.getHost().isEmpty());
    }

    public String uri() {
        return uri;
    }

    /**
     * A live connection: the current one when libvirt says it is alive (virConnectIsAlive), else a new
     * one. Opening is tried {@link ReconnectPolicy#maxAttempts()} times with exponential backoff.
     */
    public synchronized Connect connection() {
        if (connect != null && isAlive(connect)) {
            return connect;
        }
        closeQuietly();
        // The first open fails at once (a wrong URI or a libvirtd that is not there is the admin's to fix);
        // only a connection that worked before is worth waiting for (libvirtd restarting, ssh dropped).
        int attempts = everConnected ? policy.maxAttempts() : 1;
        String operation = everConnected ? "reopen connection (" + attempts + " attempts)" : "open connection";
        LibvirtException last = null;
        Duration delay = policy.initialDelay();
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (attempt > 1) {
                sleep(delay);
                delay = policy.next(delay);
            }
            try {
                silenceLibxml2Warnings();
                connect = new Connect(uri, false);
                everConnected = true;
                return connect;
            } catch (LibvirtException e) {
                last = e;
            }
        }
        throw LibvirtAccessException.opening(uri, operation, last);
    }

    /** Errors libvirt handed to our handler instead of printing them, in this process so far. */
    public static long silencedErrors() {
        return ERROR_HANDLER.count.get();
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }

    /**
     * The virConnectPtr under libvirt-java's Connect, for the calls in {@link LibvirtNative}. libvirt-java
     * 0.5.4 keeps it in the protected field {@code vcp} and offers no getter, hence reflection.
     */
    Pointer connectPointer(Connect c) {
        return pointerField(c, Connect.class, "vcp");
    }

    /** The virDomainPtr under libvirt-java's Domain (package-private field {@code vdp}), as above. */
    Pointer domainPointer(Domain d) {
        return pointerField(d, Domain.class, "vdp");
    }

    /** The error of the last failed {@link LibvirtNative} call on this thread, as our exception. */
    LibvirtAccessException lastNativeError(String operation) {
        int code = LibvirtNative.INSTANCE.virGetLastErrorCode();
        ErrorNumber[] numbers = ErrorNumber.values();
        Optional<ErrorNumber> number =
                code > 0 && code < numbers.length ? Optional.of(numbers[code]) : Optional.empty();
        return new LibvirtAccessException(
                uri, operation, LibvirtNative.INSTANCE.virGetLastErrorMessage(), number, null);
    }

    private static Pointer pointerField(Object owner, Class<?> type, String name) {
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return ((PointerType) field.get(owner)).getPointer();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    "libvirt-java " + type.getName() + " has no field " + name
                            + "; the native binding needs libvirt-java 0.5.4",
                    e);
        }
    }

    private static boolean isAlive(Connect c) {
        try {
            return c.isAlive();
        } catch (LibvirtException e) {
            return false;
        }
    }

    private void closeQuietly() {
        if (connect != null) {
            try {
                connect.close();
            } catch (LibvirtException e) {
                // Closing a connection libvirt already dropped: nothing left to release.
            }
            connect = null;
        }
    }

    private void sleep(Duration delay) {
        try {
            sleeper.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LibvirtAccessException(
                    uri, "open connection", "interrupted while waiting to reconnect", Optional.empty(), e);
        }
    }

    private static void installErrorHandler(String uri) {
        try {
            Connect.setErrorCallback(ERROR_HANDLER);
        } catch (LibvirtException e) {
            throw LibvirtAccessException.of(uri, "install error handler", e);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            // libvirt-java loads the C library through JNA on its first call, this one; without it every
            // later call fails too ("Could not initialize class org.libvirt.jna.Libvirt"). JNA's first two
            // lines say what it tried; the rest lists the class path.
            throw new LibvirtAccessException(
                    uri,
                    "load libvirt's client library",
                    "libvirt.so.0 was not found ("
                            + String.valueOf(e.getMessage()).lines().limit(2).collect(Collectors.joining(" "))
                            + "); install it"
                            + " (Debian: apt-get install libvirt0)",
                    Optional.empty(),
                    e);
        }
    }

    /**
     * libvirt parses XML with libxml2 in the calling thread (test:/// files, local drivers' configs),
     * and libxml2 prints its warnings ("I/O warning : failed to load external entity") to stderr by
     * its per-thread generic error handler, past virSetErrorFunc; libvirt reports the failure itself.
     * See https://gnome.pages.gitlab.gnome.org/libxml2/devhelp/libxml2-xmlerror.html#xmlSetGenericErrorFunc
     */
    private static void silenceLibxml2Warnings() {
        Libxml2.INSTANCE.xmlSetGenericErrorFunc(Pointer.NULL, XML_WARNING_SINK);
    }

    /** The one libxml2 call we need; libxml2.so.2 is loaded already, as libvirt.so.0 links it. */
    private interface Libxml2 extends Library {
        Libxml2 INSTANCE = Native.load("libxml2.so.2", Libxml2.class);

        /** xmlGenericErrorFunc(void *ctx, const char *msg, ...): the variadic rest is ignored. */
        interface GenericErrorFunc extends Callback {
            void invoke(Pointer context, Pointer message);
        }

        void xmlSetGenericErrorFunc(Pointer context, GenericErrorFunc handler);
    }

    /** Counts libvirt's errors instead of printing them; libvirt-java throws them as exceptions. */
    private static final class SilentErrorHandler implements Libvirt.VirErrorCallback {
        private final AtomicLong count = new AtomicLong();

        @Override
        public void errorCallback(Pointer userData, virError error) {
            count.incrementAndGet();
        }
    }
}
