package org.memhygiene.controller.libvirt;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.memhygiene.core.host.BalloonStats;
import org.memhygiene.core.host.DomainSample;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.DomainXml;

/**
 * The domains of one libvirt host with their state, memory and balloon statistics, and the domain XML
 * the controller needs. A domain destroyed or undefined while a sample is taken (VIR_ERR_NO_DOMAIN) is
 * left out of that sample: it is gone, which is not an error.
 */
public final class DomainInventory {
    private static final long KIB = 1024;

    private final LibvirtHost host;
    private final DomainXmlParser parser;

    public DomainInventory(LibvirtHost host, DomainXmlParser parser) {
        this.host = host;
        this.parser = parser;
    }

    /** Every domain, running or not (virConnectListAllDomains), by name. */
    public List<DomainSample> sample() {
        Pointer conn = host.connectPointer(host.connection());
        PointerByReference list = new PointerByReference();
        int count = LibvirtSampleCalls.virConnectListAllDomains(conn, list, 0);
        if (count < 0) {
            throw host.lastNativeError("list domains");
        }
        Pointer domains = list.getValue();
        Buffers buffers = new Buffers();
        List<DomainSample> samples = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                Pointer domain = domains.getPointer((long) i * Native.POINTER_SIZE);
                sample(domain, buffers).ifPresent(samples::add);
            }
        } finally {
            for (int i = 0; i < count; i++) {
                LibvirtSampleCalls.virDomainFree(domains.getPointer((long) i * Native.POINTER_SIZE));
            }
            Native.free(Pointer.nativeValue(domains));
        }
        samples.sort(Comparator.comparing(DomainSample::name));
        return samples;
    }

    /** Native memory one sample reuses for every domain. */
    static final class Buffers {
        final Memory info = new Memory(INFO_BYTES);
        final Memory stats = new Memory((long) BalloonStats.MAX_STATS * STAT_BYTES);
        final byte[] uuid = new byte[UUID_STRING_BYTES];
    }

    // virDomainInfo with C's alignment: an unsigned long is Native.LONG_SIZE bytes (8 on LP64).
    private static final int LONG = Native.LONG_SIZE;
    private static final int INFO_MAX_MEM = LONG;
    private static final int INFO_MEMORY = 2 * LONG;
    private static final int INFO_VCPUS = 3 * LONG;
    private static final int INFO_BYTES = ((3 * LONG + 2 + 7) / 8) * 8 + 8;
    /** virDomainMemoryStatStruct: int tag, 4 bytes of padding, unsigned long long val. */
    private static final int STAT_BYTES = 16;
    /** VIR_UUID_STRING_BUFLEN. */
    private static final int UUID_STRING_BYTES = 37;

    /** One domain, or empty when it has disappeared (VIR_ERR_NO_DOMAIN). */
    Optional<DomainSample> sample(Pointer domain, Buffers buffers) {
        if (LibvirtSampleCalls.virDomainGetInfo(domain, buffers.info) < 0) {
            return dropIfGone(host.lastNativeError("read domain"));
        }
        Pointer name = LibvirtSampleCalls.virDomainGetName(domain);
        if (name == null || LibvirtSampleCalls.virDomainGetUUIDString(domain, buffers.uuid) < 0) {
            return dropIfGone(host.lastNativeError("read domain name and UUID"));
        }
        int stateNumber = buffers.info.getByte(0) & 0xff;
        DomainState[] states = DomainState.values(); // in virDomainState's order
        DomainState state = stateNumber < states.length ? states[stateNumber] : DomainState.NO_STATE;
        BalloonStats stats = state.hasQemuProcess() ? balloonStats(domain, buffers) : BalloonStats.NONE;
        return Optional.of(new DomainSample(
                name.getString(0),
                Native.toString(buffers.uuid),
                state,
                buffers.info.getShort(INFO_VCPUS) & 0xffff,
                unsignedLong(buffers.info, INFO_MAX_MEM) * KIB,
                unsignedLong(buffers.info, INFO_MEMORY) * KIB,
                stats));
    }

    /**
     * virDomainMemoryStats fails with VIR_ERR_OPERATION_INVALID on a domain that is not running; one
     * that stops between getInfo and this call has no statistics, like any stopped domain.
     */
    BalloonStats balloonStats(Pointer domain, Buffers buffers) {
        int count = LibvirtSampleCalls.virDomainMemoryStats(domain, buffers.stats, BalloonStats.MAX_STATS, 0);
        if (count < 0) {
            LibvirtAccessException error = host.lastNativeError("read memory statistics");
            if (error.code()
                            .filter(c -> c == ErrorNumber.VIR_ERR_OPERATION_INVALID)
                            .isPresent()
                    || error.isNoDomain()) {
                return BalloonStats.NONE;
            }
            throw error;
        }
        Map<Integer, Long> byTag = new HashMap<>();
        for (int i = 0; i < count; i++) {
            byTag.put(buffers.stats.getInt((long) i * STAT_BYTES), buffers.stats.getLong((long) i * STAT_BYTES + 8));
        }
        return BalloonStats.of(byTag);
    }

    private static long unsignedLong(Memory memory, int offset) {
        return LONG == 8 ? memory.getLong(offset) : memory.getInt(offset) & 0xffff_ffffL;
    }

    private static <T> Optional<T> dropIfGone(LibvirtAccessException error) {
        if (error.isNoDomain()) {
            return Optional.empty();
        }
        throw error;
    }

    /** The domain's live XML (the inactive one for a domain that is not running), parsed. */
    public Optional<DomainXml> xml(String name) {
        return lookup(name)
                .flatMap(domain ->
                        droppedIfGone(() -> parser.parse(name, domain.getXMLDesc(0)), "read XML of domain " + name));
    }

    /**
     * Opt-in: makes the balloon driver of a running domain report statistics every
     * {@code periodSeconds} (virDomainSetMemoryStatsPeriod with VIR_DOMAIN_AFFECT_LIVE, see
     * https://libvirt.org/formatdomain.html#memory-balloon-device). libvirt collects no guest figures
     * (unused, usable, disk caches...) while the period is 0, which is QEMU's default. A domain whose
     * period is already set keeps it; the change lasts until the domain stops (the persistent
     * definition is left alone, the administrator owns it).
     *
     * @return true when the period was 0 or unset and is now {@code periodSeconds}; false when the domain
     *         is gone, not running, has no virtio balloon or already has a period
     */
    public boolean enableBalloonStatsPeriod(String name, int periodSeconds) {
        if (periodSeconds <= 0) {
            throw new IllegalArgumentException(
                    "balloon stats period must be a positive number of seconds, was " + periodSeconds);
        }
        Optional<Domain> found = lookup(name);
        if (found.isEmpty()) {
            return false;
        }
        Domain domain = found.get();
        Optional<Boolean> changed = droppedIfGone(
                () -> {
                    if (domain.isActive() != 1) {
                        return false;
                    }
                    Optional<DomainXml.Balloon> balloon =
                            parser.parse(name, domain.getXMLDesc(0)).balloon().filter(b -> "virtio".equals(b.model()));
                    if (balloon.isEmpty() || balloon.get().statsPeriodSeconds().orElse(0) != 0) {
                        return false;
                    }
                    if (LibvirtNative.INSTANCE.virDomainSetMemoryStatsPeriod(
                                    host.domainPointer(domain), periodSeconds, LibvirtNative.VIR_DOMAIN_AFFECT_LIVE)
                            < 0) {
                        throw host.lastNativeError("set balloon stats period of domain " + name);
                    }
                    return true;
                },
                "set balloon stats period of domain " + name);
        return changed.orElse(false);
    }

    private Optional<Domain> lookup(String name) {
        Connect connect = host.connection();
        return droppedIfGone(() -> connect.domainLookupByName(name), "look up domain " + name);
    }

    /** A libvirt call whose VIR_ERR_NO_DOMAIN means "gone": empty, not an error. */
    <T> Optional<T> droppedIfGone(LibvirtCall<T> call, String operation) {
        try {
            return Optional.of(call.call());
        } catch (LibvirtException e) {
            LibvirtAccessException error = LibvirtAccessException.of(host.uri(), operation, e);
            if (error.isNoDomain()) {
                return Optional.empty();
            }
            throw error;
        } catch (LibvirtAccessException e) {
            if (e.isNoDomain()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @FunctionalInterface
    interface LibvirtCall<T> {
        T call() throws LibvirtException;
    }
}
