package org.memhygiene.agent.secret;

import com.sun.jna.Pointer;
import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.Optional;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.NativeCallException;

/**
 * Memory for keys and passwords in a guest's Java program: never swapped, left out of core dumps, not
 * inherited by a child, fenced by inaccessible guard pages, and zeroed when closed, or by a
 * {@link Cleaner} when the caller forgets to close it. Copies made with {@link #read} are the caller's
 * to wipe.
 *
 * <p>Two backings: memfd_secret(2) (Linux 5.14; the pages are also removed from the kernel's direct map,
 * so even kernel bugs that read arbitrary memory miss them), and where the kernel refuses it an anonymous
 * mapping with mlock(2), MADV_DONTDUMP and MADV_WIPEONFORK (libsodium's sodium_malloc does the same).
 * Both are charged to RLIMIT_MEMLOCK.
 *
 * <p>Layout: [guard page][data, whole pages][guard page], guards PROT_NONE so that running off either end
 * faults at once instead of reading a neighbour. Reads, writes and close are synchronized, so closing while
 * another thread reads cannot touch an unmapped page.
 */
public final class SecretMemory implements AutoCloseable {
    /**
     * O_CLOEXEC (02000000) from https://github.com/torvalds/linux/blob/master/include/uapi/asm-generic/fcntl.h,
     * the only flag memfd_secret(2) accepts: the descriptor does not leak into exec'd programs.
     */
    static final int O_CLOEXEC = 0x80000;

    /** One daemon thread serves every instance, as the Cleaner documentation advises. */
    private static final Cleaner CLEANER = Cleaner.create();

    /** Where the secret lives. */
    public enum Backing {
        /** memfd_secret: outside the kernel's direct map, implicitly locked. */
        MEMFD_SECRET,
        /** Anonymous memory with mlock, MADV_DONTDUMP and MADV_WIPEONFORK. */
        LOCKED_ANONYMOUS
    }

    private final long sizeBytes;
    private final Backing backing;
    private final Optional<String> memfdSecretRefusal;
    private final Region region;
    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    /** {@code sizeBytes} of secret memory, from memfd_secret when the kernel allows it. */
    public SecretMemory(long sizeBytes) {
        this(sizeBytes, Backing.MEMFD_SECRET);
    }

    /**
     * @param sizeBytes size of the secret, rounded up to whole pages inside
     * @param preferred {@link Backing#MEMFD_SECRET} tries memfd_secret and falls back to locked anonymous
     *                  memory if the kernel refuses; {@link Backing#LOCKED_ANONYMOUS} goes straight there
     * @throws NativeCallException when even the fallback cannot be locked (RLIMIT_MEMLOCK, ENOMEM)
     */
    public SecretMemory(long sizeBytes, Backing preferred) {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("sizeBytes = " + sizeBytes + ": expected a positive size");
        }
        Objects.requireNonNull(preferred, "preferred backing");
        long page = LinuxMemory.pageSizeBytes();
        long dataBytes = Math.addExact(sizeBytes, page - 1) / page * page;
        Region made = null;
        String refusal = null;
        if (preferred == Backing.MEMFD_SECRET) {
            try {
                made = Region.memfdSecret(dataBytes, page);
            } catch (NativeCallException e) {
                refusal = e.getMessage();
            }
        }
        if (made == null) {
            made = Region.lockedAnonymous(dataBytes, page);
        }
        this.sizeBytes = sizeBytes;
        this.region = made;
        this.backing = made.fd >= 0 ? Backing.MEMFD_SECRET : Backing.LOCKED_ANONYMOUS;
        this.memfdSecretRefusal = Optional.ofNullable(refusal);
        this.cleanable = CLEANER.register(this, made);
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    public Backing backing() {
        return backing;
    }

    /** Why memfd_secret was not used, when it was tried and refused (e.g. "memfd_secret(flags=0x80000) failed: ENOSYS"). */
    public Optional<String> memfdSecretRefusal() {
        return memfdSecretRefusal;
    }

    /** Copies {@code source} into the secret at {@code offsetBytes}. */
    public synchronized void write(long offsetBytes, byte[] source) {
        checkRange(offsetBytes, source.length);
        region.data().write(offsetBytes, source, 0, source.length);
    }

    /** Copies {@code destination.length} bytes of the secret from {@code offsetBytes} into {@code destination}. */
    public synchronized void read(long offsetBytes, byte[] destination) {
        checkRange(offsetBytes, destination.length);
        region.data().read(offsetBytes, destination, 0, destination.length);
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

        private Region(long reserveAddress, long reserveBytes, long dataBytes, long pageBytes, int fd) {
            this.reserveAddress = reserveAddress;
            this.reserveBytes = reserveBytes;
            this.dataBytes = dataBytes;
            this.pageBytes = pageBytes;
            this.fd = fd;
        }

        /** PROT_NONE for the whole span first: the guards are whatever is not opened up afterwards. */
        private static Pointer reserve(long reserveBytes) {
            return LinuxMemory.map(null, reserveBytes, LinuxMemory.PROT_NONE,
                    LinuxMemory.MAP_PRIVATE | LinuxMemory.MAP_ANONYMOUS, -1, 0);
        }

        static Region lockedAnonymous(long dataBytes, long pageBytes) {
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
            return new Region(Pointer.nativeValue(reserve), reserveBytes, dataBytes, pageBytes, -1);
        }

        static Region memfdSecret(long dataBytes, long pageBytes) {
            int fd = LinuxMemory.memfdSecret(O_CLOEXEC);
            long reserveBytes = dataBytes + 2 * pageBytes;
            Pointer reserve = null;
            try {
                LinuxMemory.truncate(fd, dataBytes);
                reserve = reserve(reserveBytes);
                // Replace the middle of our own PROT_NONE reservation; secretmem requires MAP_SHARED.
                Pointer data = LinuxMemory.map(reserve.share(pageBytes), dataBytes,
                        LinuxMemory.PROT_READ | LinuxMemory.PROT_WRITE, LinuxMemory.MAP_SHARED | LinuxMemory.MAP_FIXED, fd, 0);
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
            return new Region(Pointer.nativeValue(reserve), reserveBytes, dataBytes, pageBytes, fd);
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
