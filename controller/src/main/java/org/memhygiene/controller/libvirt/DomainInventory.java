package org.memhygiene.controller.libvirt;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.libvirt.MemoryStatistic;
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
        Connect connect = host.connection();
        Domain[] domains;
        try {
            domains = connect.listAllDomains(0);
        } catch (LibvirtException e) {
            throw LibvirtAccessException.of(host.uri(), "list domains", e);
        }
        List<DomainSample> samples = new ArrayList<>();
        for (Domain domain : domains) {
            sample(domain).ifPresent(samples::add);
        }
        samples.sort(Comparator.comparing(DomainSample::name));
        return samples;
    }

    /** One domain, or empty when it has disappeared (VIR_ERR_NO_DOMAIN). */
    public Optional<DomainSample> sample(Domain domain) {
        return droppedIfGone(() -> {
            DomainInfo info = domain.getInfo();
            DomainState state = stateOf(info.state);
            // The state tells whether it runs; a separate virDomainIsActive per domain per sample costs CPU.
            BalloonStats stats = state.hasQemuProcess() ? balloonStats(domain) : BalloonStats.NONE;
            return new DomainSample(domain.getName(), domain.getUUIDString(), state, info.nrVirtCpu,
                    info.maxMem * KIB, info.memory * KIB, stats);
        }, "read domain");
    }

    /**
     * virDomainMemoryStats fails with VIR_ERR_OPERATION_INVALID on a domain that is not running; one
     * that stops between getInfo and this call has no statistics, like any stopped domain.
     */
    static BalloonStats balloonStats(Domain domain) throws LibvirtException {
        try {
            Map<Integer, Long> byTag = new HashMap<>();
            for (MemoryStatistic stat : domain.memoryStats(BalloonStats.MAX_STATS)) {
                byTag.put(stat.getTag(), stat.getValue());
            }
            return BalloonStats.of(byTag);
        } catch (LibvirtException e) {
            if (e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_OPERATION_INVALID) {
                return BalloonStats.NONE;
            }
            throw e;
        }
    }

    /** The domain's live XML (the inactive one for a domain that is not running), parsed. */
    public Optional<DomainXml> xml(String name) {
        return lookup(name).flatMap(domain -> droppedIfGone(
                () -> parser.parse(name, domain.getXMLDesc(0)), "read XML of domain " + name));
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
            throw new IllegalArgumentException("balloon stats period must be a positive number of seconds, was "
                    + periodSeconds);
        }
        Optional<Domain> found = lookup(name);
        if (found.isEmpty()) {
            return false;
        }
        Domain domain = found.get();
        Optional<Boolean> changed = droppedIfGone(() -> {
            if (domain.isActive() != 1) {
                return false;
            }
            Optional<DomainXml.Balloon> balloon = parser.parse(name, domain.getXMLDesc(0)).balloon()
                    .filter(b -> "virtio".equals(b.model()));
            if (balloon.isEmpty() || balloon.get().statsPeriodSeconds().orElse(0) != 0) {
                return false;
            }
            if (LibvirtNative.INSTANCE.virDomainSetMemoryStatsPeriod(host.domainPointer(domain), periodSeconds,
                    LibvirtNative.VIR_DOMAIN_AFFECT_LIVE) < 0) {
                throw host.lastNativeError("set balloon stats period of domain " + name);
            }
            return true;
        }, "set balloon stats period of domain " + name);
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

    /** virDomainState (https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainState) as our enum. */
    private static DomainState stateOf(DomainInfo.DomainState state) {
        return switch (state) {
            case VIR_DOMAIN_NOSTATE -> DomainState.NO_STATE;
            case VIR_DOMAIN_RUNNING -> DomainState.RUNNING;
            case VIR_DOMAIN_BLOCKED -> DomainState.BLOCKED;
            case VIR_DOMAIN_PAUSED -> DomainState.PAUSED;
            case VIR_DOMAIN_SHUTDOWN -> DomainState.SHUTTING_DOWN;
            case VIR_DOMAIN_SHUTOFF -> DomainState.SHUT_OFF;
            case VIR_DOMAIN_CRASHED -> DomainState.CRASHED;
            case VIR_DOMAIN_PMSUSPENDED -> DomainState.PM_SUSPENDED;
        };
    }
}
