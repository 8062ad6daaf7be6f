package org.memhygiene.controller.libvirt;

import java.util.Optional;
import java.util.OptionalInt;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.host.DomainKsm;

/** Per-domain KSM figures: the domain's QEMU process found by {@link QemuProcessLocator}, read by {@link ProcessKsmReader}. */
public final class DomainKsmReader {
    private final QemuProcessLocator locator;
    private final ProcessKsmReader reader;

    public DomainKsmReader(QemuProcessLocator locator, ProcessKsmReader reader) {
        this.locator = locator;
        this.reader = reader;
    }

    /** The pid of the domain's QEMU process on this machine, or empty when none runs. */
    public OptionalInt locate(String domainName) {
        return locator.find(domainName);
    }

    /** Whether process {@code pid} still exists (its /proc directory). */
    public boolean running(int pid) {
        return locator.running(pid);
    }

    /** Empty when the domain has no QEMU process here or its kernel reports no per-process KSM figures. */
    public Optional<DomainKsm> read(String domainName) {
        OptionalInt pid = locate(domainName);
        return pid.isEmpty() ? Optional.empty() : read(domainName, pid.getAsInt());
    }

    /** The ksm_stat of {@code pid}, the domain's QEMU process; empty when the kernel reports none (or it exited). */
    public Optional<DomainKsm> read(String domainName, int pid) {
        return reader.read(pid).map(stat -> new DomainKsm(domainName, pid, stat));
    }
}
