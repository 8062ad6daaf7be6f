package org.memhygiene.controller.guestmemory;

/**
 * A running VM to measure: its QEMU process and the memory its domain defines (libvirt's {@code <memory>},
 * {@code DomainSample.maxMemoryBytes}), which the guest RAM mappings add up to.
 */
public record GuestMemoryTarget(String vmName, int pid, long ramBytes) {
    public GuestMemoryTarget {
        if (pid <= 0) {
            throw new IllegalArgumentException("VM " + vmName + ": pid must be positive, got " + pid);
        }
        if (ramBytes <= 0) {
            throw new IllegalArgumentException("VM " + vmName + ": memory must be positive, got " + ramBytes);
        }
    }
}
