package org.memhygiene.secret;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Optional;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.NativeCallException;

/**
 * Memory for keys, passwords and tokens in a Java program on Linux: never swapped, left out of core dumps,
 * not inherited by a child, fenced by inaccessible guard pages, and zeroed when closed, or by a
 * {@link Cleaner} when the caller forgets to close it. A secret comes in from a file without passing
 * through the Java heap ({@link #readFile}) or from an array ({@link #write}), and is compared where it is
 * ({@link #constantTimeEquals}); copies made with {@link #read} are the caller's to wipe. README.md says
 * what the JVM can and cannot promise around that.
 *
 * <p>Two backings: memfd_secret(2) (Linux 5.14; the pages are also removed from the kernel's direct map,
 * so even kernel bugs that read arbitrary memory miss them), and where the kernel refuses it an anonymous
 * mapping with mlock(2), MADV_DONTDUMP and MADV_WIPEONFORK (libsodium's sodium_malloc does the same).
 * Both are charged to RLIMIT_MEMLOCK; {@link #protection()} says which one a secret got, and why.
 *
 * <p>Layout: [guard page][data, whole pages][guard page], guards PROT_NONE so that running off either end
 * faults at once instead of reading a neighbour. Every access and close are synchronized, so closing while
 * another thread reads cannot touch an unmapped page.
 */
public final class SecretMemory implements AutoCloseable {
    /**
     * O_CLOEXEC (02000000) from https://github.com/torvalds/linux/blob/master/include/uapi/asm-generic/fcntl.h,
     * the only flag memfd_secret(2) accepts: the descriptor does not leak into exec'd programs.
     */
    static final int O_CLOEXEC = 0x80000;
    /** A secret, not a heap: the largest size accepted (and every offset then fits an int). */
    public static final long MAX_SIZE_BYTES = 1L << 30;

    /** One daemon thread serves every instance, as the Cleaner documentation advises. */
    private static final Cleaner CLEANER = Cleaner.create();

    /** Where the secret lives. */
    public enum Backing {
        /** memfd_secret: outside the kernel's direct map, implicitly locked. */
        MEMFD_SECRET("memfd_secret (outside the kernel's direct map, locked, not dumped, not inherited by children)"),
        /** Anonymous memory with mlock, MADV_DONTDUMP and MADV_WIPEONFORK. */
        LOCKED_ANONYMOUS("mlock + MADV_DONTDUMP + MADV_WIPEONFORK (locked, not dumped, zero in children;"
                + " still in the kernel's direct map)");

        private final String description;

        Backing(String description) {
            this.description = description;
        }
    }

    /** What {@link #readFile} keeps of a file. */
    public enum Trim {
        /** Every byte: binary keys. */
        NONE,
        /**
         * All but leading and trailing ASCII whitespace (space, tab, LF, VT, FF, CR): tokens and passwords in
         * text files, whose final newline is not part of the secret.
         */
        ASCII_WHITESPACE
    }

    /**
     * How a secret is protected, for an admin to read (a log line, a status page).
     *
     * @param backing        where the secret lives
     * @param lockedBytes    the whole pages that hold it, locked in RAM (the process's VmLck grows by this)
     * @param fallbackReason why it is {@link Backing#LOCKED_ANONYMOUS}: memfd_secret's refusal, or that the
     *                       caller asked for that backing; empty for {@link Backing#MEMFD_SECRET}
     */
    public record Protection(Backing backing, long lockedBytes, Optional<String> fallbackReason) {
        public Protection {
            Objects.requireNonNull(backing, "backing");
            Objects.requireNonNull(fallbackReason, "fallbackReason");
        }

        /**
         * One line, e.g. "memfd_secret (outside the kernel's direct map, ...), 4096 bytes locked", or for the
         * fallback "mlock + MADV_DONTDUMP + MADV_WIPEONFORK (...), 4096 bytes locked; memfd_secret refused:
         * memfd_secret(flags=0x80000) failed: ENOSYS".
         */
        public String summary() {
            return backing.description + ", " + lockedBytes + " bytes locked"
                    + fallbackReason.map(r -> "; " + r).orElse("");
        }
    }

    private final long sizeBytes;
    private final Region region;
    /** A view of the data pages (no copy): every read, write and comparison goes through it. */
    private final ByteBuffer bytes;

    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    /** {@code sizeBytes} of secret memory, from memfd_secret when the kernel allows it. */
    public SecretMemory(long sizeBytes) {
        this(sizeBytes, Backing.MEMFD_SECRET);
    }

    /**
     * @param sizeBytes size of the secret, 1 to {@link #MAX_SIZE_BYTES}, rounded up to whole pages inside
     * @param preferred {@link Backing#MEMFD_SECRET} tries memfd_secret and falls back to locked anonymous
     *                  memory if the kernel refuses; {@link Backing#LOCKED_ANONYMOUS} goes straight there
     * @throws IllegalStateException when neither backing can be had (RLIMIT_MEMLOCK, ENOMEM); the message
     *                               says why each was refused
     */
    public SecretMemory(long sizeBytes, Backing preferred) {
        this(
                sizeBytes,
                Region.allocate(checkedSize(sizeBytes), Objects.requireNonNull(preferred, "preferred backing")));
    }

    private SecretMemory(long sizeBytes, Region region) {
        this.sizeBytes = sizeBytes;
        this.region = region;
        this.bytes = region.data().getByteBuffer(0, region.dataBytes);
        this.cleanable = CLEANER.register(this, region);
    }

    /**
     * Reads {@code file} straight into secret memory: read(2) copies its bytes from the page cache into the
     * secret's own pages (a direct buffer over them), so no Java array and no JDK buffer ever holds them.
     * The secret's pages are sized from the file, plus one byte to notice a file that grows while it is read.
     *
     * @param trim     what of the file to keep
     * @param maxBytes the largest file accepted
     * @throws IOException              when the file cannot be opened or read
     * @throws IllegalArgumentException when it is empty (after trimming), larger than {@code maxBytes}, or
     *                                  changed while it was read; the message names the file
     * @throws IllegalStateException    when no secret memory can be had (see the constructor)
     */
    public static SecretMemory readFile(Path file, Trim trim, long maxBytes) throws IOException {
        Objects.requireNonNull(trim, "trim");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileBytes = channel.size();
            if (fileBytes == 0) {
                throw new IllegalArgumentException(file + " is empty: expected a secret");
            }
            if (fileBytes > Math.min(maxBytes, MAX_SIZE_BYTES - 1)) {
                throw new IllegalArgumentException(file + " has " + fileBytes + " bytes: expected a secret of at most "
                        + Math.min(maxBytes, MAX_SIZE_BYTES - 1) + " bytes");
            }
            Region region = Region.allocate(fileBytes + 1, Backing.MEMFD_SECRET);
            try {
                ByteBuffer view = region.data().getByteBuffer(0, fileBytes + 1);
                while (view.hasRemaining() && channel.read(view) >= 0) {
                    // read(2) may return less than asked; keep going until the end of the file or one byte past it
                }
                if (view.position() != fileBytes) {
                    throw new IllegalArgumentException(file + " changed while it was read: " + fileBytes
                            + " bytes, then " + (view.position() > fileBytes ? "more" : view.position() + " bytes"));
                }
                int start = 0;
                int end = (int) fileBytes;
                while (trim == Trim.ASCII_WHITESPACE && start < end && isAsciiWhitespace(view.get(start))) {
                    start++;
                }
                while (trim == Trim.ASCII_WHITESPACE && end > start && isAsciiWhitespace(view.get(end - 1))) {
                    end--;
                }
                if (start == end) {
                    throw new IllegalArgumentException(file + " holds only whitespace: expected a secret");
                }
                // Move the secret to the start of its own pages, then zero everything after it.
                view.limit(end).position(start);
                view.compact();
                region.data().setMemory(end - start, region.dataBytes - (end - start), (byte) 0);
                return new SecretMemory(end - start, region);
            } catch (IOException | RuntimeException e) {
                region.run();
                throw e;
            }
        }
    }

    private static boolean isAsciiWhitespace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == 0x0B || b == '\f' || b == '\r';
    }

    private static long checkedSize(long sizeBytes) {
        if (sizeBytes <= 0 || sizeBytes > MAX_SIZE_BYTES) {
            throw new IllegalArgumentException("sizeBytes = " + sizeBytes + ": expected 1 to " + MAX_SIZE_BYTES);
        }
        return sizeBytes;
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /** Which backing this secret got and why; stays readable after {@link #close()}. */
    public Protection protection() {
        return region.protection;
    }

    /** Copies {@code source} into the secret at {@code offsetBytes}. */
    public synchronized void write(long offsetBytes, byte[] source) {
        checkRange(offsetBytes, source.length);
        bytes.put((int) offsetBytes, source);
    }

    /** Copies {@code destination.length} bytes of the secret from {@code offsetBytes} into {@code destination}. */
    public synchronized void read(long offsetBytes, byte[] destination) {
        checkRange(offsetBytes, destination.length);
        bytes.get((int) offsetBytes, destination);
    }

    /**
     * Whether {@code candidate} holds exactly the secret's bytes, in a time that depends on the candidate's
     * length only: no early exit, no branch on the secret's bytes or length (the way
     * {@link java.security.MessageDigest#isEqual} does it), and no copy of the secret.
     */
    public synchronized boolean constantTimeEquals(byte[] candidate) {
        checkOpen();
        int secretBytes = (int) sizeBytes;
        int difference = candidate.length ^ secretBytes;
        for (int i = 0; i < candidate.length; i++) {
            // Index i while inside the secret, 0 past its end (the length difference has decided by then).
            int index = ((i - secretBytes) >>> 31) * i;
            difference |= candidate[i] ^ bytes.get(index);
        }
        return difference == 0;
    }

    /** Zeroes the whole secret now and keeps the memory for reuse. */
    public synchronized void wipe() {
        checkOpen();
        region.wipe();
    }

    /** Zeroes the secret and gives the memory back; calling it again does nothing. */
    @Override
    public synchronized void close() {
        closed = true;
        cleanable.clean();
    }

    /** Start of the data pages, for tests that look at the mapping in /proc/self. */
    Pointer dataAddress() {
        return region.data();
    }

    long dataBytes() {
        return region.dataBytes;
    }

    /** The memfd_secret descriptor, or -1 for the anonymous backing. */
    int fileDescriptor() {
        return region.fd;
    }

    private void checkRange(long offsetBytes, int lengthBytes) {
        checkOpen();
        if (offsetBytes < 0 || offsetBytes > sizeBytes - lengthBytes) {
            throw new IndexOutOfBoundsException("offset " + offsetBytes + " + length " + lengthBytes
                    + ": expected a range inside the secret's " + sizeBytes + " bytes");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("SecretMemory is closed");
        }
    }

    /**
     * The mapping and descriptor, with the zero-and-release action. Holds no reference to the
     * SecretMemory, so the Cleaner can run it once that becomes unreachable.
     */
    private static final class Region implements Runnable {
        final long reserveAddress;
        final long reserveBytes;
        final long dataBytes;
        final long pageBytes;
        final int fd;
        final Protection protection;

        private Region(
                long reserveAddress, long reserveBytes, long dataBytes, long pageBytes, int fd, Protection protection) {
            this.reserveAddress = reserveAddress;
            this.reserveBytes = reserveBytes;
            this.dataBytes = dataBytes;
            this.pageBytes = pageBytes;
            this.fd = fd;
            this.protection = protection;
        }

        /** Whole pages for {@code sizeBytes}: memfd_secret first if {@code preferred}, else (or if refused) locked anonymous. */
        static Region allocate(long sizeBytes, Backing preferred) {
            long pageBytes = LinuxMemory.pageSizeBytes();
            long dataBytes = Math.addExact(sizeBytes, pageBytes - 1) / pageBytes * pageBytes;
            NativeCallException refusal = null;
            if (preferred == Backing.MEMFD_SECRET) {
                try {
                    return memfdSecret(dataBytes, pageBytes);
                } catch (NativeCallException e) {
                    refusal = e;
                }
            }
            String reason = refusal == null
                    ? "memfd_secret not tried: LOCKED_ANONYMOUS was asked for"
                    : "memfd_secret refused: " + refusal.getMessage();
            try {
                return lockedAnonymous(dataBytes, pageBytes, reason);
            } catch (NativeCallException e) {
                IllegalStateException failure = new IllegalStateException(
                        "no secret memory of " + dataBytes + " bytes: "
                                + reason + "; then " + e.getMessage()
                                + " (both count against RLIMIT_MEMLOCK, LimitMEMLOCK= in"
                                + " a systemd unit, unless the process has CAP_IPC_LOCK)",
                        e);
                if (refusal != null) {
                    failure.addSuppressed(refusal);
                }
                throw failure;
            }
        }

        /** PROT_NONE for the whole span first: the guards are whatever is not opened up afterwards. */
        private static Pointer reserve(long reserveBytes) {
            return LinuxMemory.map(
                    null,
                    reserveBytes,
                    LinuxMemory.PROT_NONE,
                    LinuxMemory.MAP_PRIVATE | LinuxMemory.MAP_ANONYMOUS,
                    -1,
                    0);
        }

        static Region lockedAnonymous(long dataBytes, long pageBytes, String reason) {
            long reserveBytes = dataBytes + 2 * pageBytes;
            Pointer reserve = reserve(reserveBytes);
            Pointer data = reserve.share(pageBytes);
            try {
                LinuxMemory.protect(data, dataBytes, LinuxMemory.PROT_READ | LinuxMemory.PROT_WRITE);
                LinuxMemory.madvise(data, dataBytes, LinuxMemory.MADV_DONTDUMP);
                LinuxMemory.madvise(data, dataBytes, LinuxMemory.MADV_WIPEONFORK);
                LinuxMemory.lock(data, dataBytes);
            } catch (NativeCallException e) {
                LinuxMemory.unmap(reserve, reserveBytes);
                throw e;
            }
            return new Region(
                    Pointer.nativeValue(reserve),
                    reserveBytes,
                    dataBytes,
                    pageBytes,
                    -1,
                    new Protection(Backing.LOCKED_ANONYMOUS, dataBytes, Optional.of(reason)));
        }

        static Region memfdSecret(long dataBytes, long pageBytes) {
            int fd = LinuxMemory.memfdSecret(O_CLOEXEC);
            long reserveBytes = dataBytes + 2 * pageBytes;
            Pointer reserve = null;
            try {
                LinuxMemory.truncate(fd, dataBytes);
                reserve = reserve(reserveBytes);
                // Replace the middle of our own PROT_NONE reservation; secretmem requires MAP_SHARED.
                Pointer data = LinuxMemory.map(
                        reserve.share(pageBytes),
                        dataBytes,
                        LinuxMemory.PROT_READ | LinuxMemory.PROT_WRITE,
                        LinuxMemory.MAP_SHARED | LinuxMemory.MAP_FIXED,
                        fd,
                        0);
                // A shared mapping cannot be MADV_WIPEONFORK: keep it out of children altogether.
                LinuxMemory.madvise(data, dataBytes, LinuxMemory.MADV_DONTFORK);
                LinuxMemory.madvise(data, dataBytes, LinuxMemory.MADV_DONTDUMP);
            } catch (NativeCallException e) {
                if (reserve != null) {
                    LinuxMemory.unmap(reserve, reserveBytes);
                }
                LinuxMemory.close(fd);
                throw e;
            }
            return new Region(
                    Pointer.nativeValue(reserve),
                    reserveBytes,
                    dataBytes,
                    pageBytes,
                    fd,
                    new Protection(Backing.MEMFD_SECRET, dataBytes, Optional.empty()));
        }

        Pointer data() {
            return new Pointer(reserveAddress + pageBytes);
        }

        void wipe() {
            data().setMemory(0, dataBytes, (byte) 0);
        }

        /** Zero, then unmap (which also unlocks) and close: run once, by close() or by the Cleaner. */
        @Override
        public void run() {
            wipe();
            LinuxMemory.unmap(new Pointer(reserveAddress), reserveBytes);
            if (fd >= 0) {
                LinuxMemory.close(fd);
            }
        }
    }
}
