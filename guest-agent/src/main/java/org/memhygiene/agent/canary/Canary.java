package org.memhygiene.agent.canary;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.memhygiene.agent.scrub.SafetyLimits;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.canary.CanaryDerivation;
import org.memhygiene.core.canary.CanaryTimings;
import org.memhygiene.core.canary.CanaryTimings.PageWrites;
import org.memhygiene.core.canary.CanaryTimings.WriteSummary;
import org.memhygiene.core.linux.LinuxClock;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.NativeCallException;
import org.memhygiene.core.protocol.AgentProtocol.ErrorCode;
import org.memhygiene.core.units.ByteSize;

/**
 * One planted deduplication canary (docs/PROTOCOL.md "canary-plant"): {@code pages} canary pages whose
 * contents {@link CanaryDerivation} gives for the nonce, the same in every guest of the probe, and as many
 * control pages of random contents no other guest has. They alternate in one private anonymous mapping
 * (mapping page 2i is canary page i, page 2i + 1 control page i), so neither kind sits at systematically
 * different addresses; MADV_NOHUGEPAGE keeps every one its own small page, and mlock keeps them resident.
 *
 * <p>The agent does not mark the mapping MADV_MERGEABLE: what the host merges is the QEMU process's guest
 * RAM, which QEMU marks mergeable as a whole. Marking it inside the guest would only invite the guest's
 * own ksmd, a different experiment, and change the guest's posture.
 *
 * <p>Not thread-safe: {@link CanaryKeeper} serializes every use.
 */
public final class Canary implements AutoCloseable {
    /**
     * The kernel's CSPRNG, for the control pages. Not SecureRandom: its NativePRNG mixes in a SHA1PRNG
     * computed in Java, which took 4.6 s per MiB in the agent's JIT-less JVM, /dev/urandom alone 8 ms.
     */
    private static final Path URANDOM = Path.of("/dev/urandom");

    private final byte[] nonce;
    private final int pages;
    private final long pageBytes;
    private final Pointer memory;
    private final long lengthBytes;
    private boolean timed;
    private boolean closed;

    private Canary(byte[] nonce, int pages, long pageBytes, Pointer memory, long lengthBytes) {
        this.nonce = nonce.clone();
        this.pages = pages;
        this.pageBytes = pageBytes;
        this.memory = memory;
        this.lengthBytes = lengthBytes;
    }

    /**
     * Maps, locks and fills the canary, or refuses ({@link ErrorCode#CANARY_REFUSED}) when the safety limits
     * of {@code config} or the locked-memory limit do not allow it; nothing stays mapped after a refusal.
     */
    public static Canary plant(byte[] nonce, int pages, SafetyLimits limits, ScrubConfig config) {
        long pageBytes = LinuxMemory.pageSizeBytes();
        CanaryBounds.checkPages("pages", pages, pageBytes);
        long lengthBytes = 2L * pages * pageBytes;
        String what = pages + " canary and " + pages + " control pages (" + ByteSize.format(lengthBytes) + ")";
        SafetyLimits.Crossed crossed = limits.crossed(config, lengthBytes);
        if (crossed != null) {
            throw new CanaryException(ErrorCode.CANARY_REFUSED, what + " refused: " + crossed.reason());
        }
        Pointer memory = LinuxMemory.mapAnonymous(lengthBytes);
        try {
            LinuxMemory.madvise(memory, lengthBytes, LinuxMemory.MADV_NOHUGEPAGE);
            try {
                LinuxMemory.lock(memory, lengthBytes);
            } catch (NativeCallException e) {
                throw new CanaryException(
                        ErrorCode.CANARY_REFUSED,
                        what + " refused: " + e.getMessage()
                                + ": locking them needs room under RLIMIT_MEMLOCK (" + lockLimits()
                                + "; memhygiene-agent.service sets LimitMEMLOCK=8M)");
            }
            Canary canary = new Canary(nonce, pages, pageBytes, memory, lengthBytes);
            canary.fill();
            return canary;
        } catch (RuntimeException | Error e) {
            LinuxMemory.unmap(memory, lengthBytes);
            throw e;
        }
    }

    /** "Max locked memory 65536 bytes, VmLck 0 kB" from /proc/self/limits and /proc/self/status. */
    private static String lockLimits() {
        try {
            String limit = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                    .filter(line -> line.startsWith("Max locked memory"))
                    .findFirst()
                    .map(line ->
                            line.substring("Max locked memory".length()).trim().split("\\s+")[0])
                    .map(soft -> "Max locked memory " + soft + (soft.equals("unlimited") ? "" : " bytes"))
                    .orElse("no Max locked memory in /proc/self/limits");
            String locked = Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("VmLck:"))
                    .findFirst()
                    .map(line -> "VmLck " + line.substring("VmLck:".length()).trim())
                    .orElse("no VmLck in /proc/self/status");
            return limit + ", " + locked;
        } catch (IOException e) {
            return "limits unreadable: " + e.getMessage();
        }
    }

    /**
     * Fills every page in place, through buffers over the mapping itself: a page's contents never pass
     * through the Java heap, whose leftover copies would be twins of the page in RAM (a control page with a
     * twin could merge, and the host would find canary pages twice).
     */
    private void fill() {
        try (FileChannel urandom = FileChannel.open(URANDOM, StandardOpenOption.READ)) {
            for (int i = 0; i < pages; i++) {
                CanaryDerivation.fill(nonce, i, memory.getByteBuffer(2L * i * pageBytes, pageBytes));
                ByteBuffer control = memory.getByteBuffer((2L * i + 1) * pageBytes, pageBytes);
                while (control.hasRemaining()) {
                    if (urandom.read(control) < 0) {
                        throw new IOException("end of file");
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + URANDOM + " for the control pages", e);
        }
    }

    public byte[] nonce() {
        return nonce.clone();
    }

    public int pages() {
        return pages;
    }

    public long pageBytes() {
        return pageBytes;
    }

    public long lockedBytes() {
        return lengthBytes;
    }

    public boolean timed() {
        return timed;
    }

    /**
     * Writes once to every page, canary and control in one random interleaved order, and times each write:
     * an untimed read of the page's first byte (so its TLB entry and cache line are warm for either kind),
     * then System.nanoTime(), one native one-byte store of the byte's complement, System.nanoTime(). A
     * canary page the host merged with another guest's is write-protected there: the store takes a
     * copy-on-write fault in the host. The canary's contents are spent afterwards; once only.
     */
    public CanaryTimings time() {
        if (timed) {
            throw new IllegalStateException("the canary was timed already");
        }
        timed = true;
        int slots = 2 * pages;
        int[] order = new int[slots];
        for (int i = 0; i < slots; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom();
        for (int i = slots - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        warmUp();
        long[] nanos = new long[slots];
        int[] positions = new int[slots];
        for (int position = 0; position < slots; position++) {
            int slot = order[position];
            nanos[slot] = timedWrite(memory, slot * pageBytes);
            positions[slot] = position;
        }
        return new CanaryTimings(
                CanaryBounds.hex(nonce),
                LinuxClock.monotonicResolutionNanos(),
                writes(nanos, positions, 0),
                writes(nanos, positions, 1));
    }

    /** One untimed read of the byte at {@code offset}, then one timed write of its complement: nanoseconds. */
    private static long timedWrite(Pointer base, long offset) {
        byte old = base.getByte(offset);
        long start = System.nanoTime();
        base.setByte(offset, (byte) ~old);
        return System.nanoTime() - start;
    }

    /**
     * The same timed write, untimed, on a scratch page of its own: the first calls through the clock and the
     * native store link and load what they need (15 µs for the first write without a JIT, 0.2 µs after),
     * which must not land on whichever page happens to come first.
     */
    private void warmUp() {
        Pointer scratch = LinuxMemory.mapAnonymous(pageBytes);
        try {
            for (int i = 0; i < 32; i++) {
                timedWrite(scratch, 0);
            }
        } finally {
            LinuxMemory.unmap(scratch, pageBytes);
        }
    }

    /** The writes to slots {@code parity}, {@code parity} + 2, ...: canary pages (0) or control pages (1). */
    private PageWrites writes(long[] nanos, int[] positions, int parity) {
        List<Integer> indices = new ArrayList<>(pages);
        List<Integer> at = new ArrayList<>(pages);
        List<Long> times = new ArrayList<>(pages);
        long[] kind = new long[pages];
        for (int i = 0; i < pages; i++) {
            indices.add(i);
            at.add(positions[2 * i + parity]);
            times.add(nanos[2 * i + parity]);
            kind[i] = nanos[2 * i + parity];
        }
        return new PageWrites(indices, at, times, WriteSummary.of(kind));
    }

    /** Zeroes every page, then unmaps them (which unlocks them); calling it again does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        memory.setMemory(0, lengthBytes, (byte) 0);
        LinuxMemory.unmap(memory, lengthBytes);
    }

    /** Start of the mapping, for tests that look at it in /proc/self/smaps. */
    Pointer address() {
        return memory;
    }

    /** Canary page {@code index} as it is in memory now, for tests. */
    byte[] canaryPage(int index) {
        return memory.getByteArray(2L * index * pageBytes, (int) pageBytes);
    }

    /** Control page {@code index} as it is in memory now, for tests. */
    byte[] controlPage(int index) {
        return memory.getByteArray((2L * index + 1) * pageBytes, (int) pageBytes);
    }
}
