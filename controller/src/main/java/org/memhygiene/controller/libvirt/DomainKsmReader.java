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

    /** Empty when the domain has no QEMU process here or its kernel reports no per-process KSM figures. */
    public Optional<DomainKsm> read(String domainName) {
        OptionalInt pid = locator.find(domainName);
        if (pid.isEmpty()) {
            return Optional.empty();
        }
        return reader.read(pid.getAsInt()).map(stat -> new DomainKsm(domainName, pid.getAsInt(), stat));
    }
}
