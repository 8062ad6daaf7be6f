package org.memhygiene.controller.guestmemory;

import java.util.OptionalLong;

/**
 * A running VM to measure: its QEMU process, the memory its domain defines (libvirt's {@code <memory>},
 * {@code DomainSample.maxMemoryBytes}), which the guest RAM mappings add up to, and the process's RSS as
 * the caller already knows it (libvirt's balloon statistics), so that a VM whose RSS moved a lot is
 * measured again first; empty when unknown.
 */
public record GuestMemoryTarget(String vmName, int pid, long ramBytes, OptionalLong rssBytes) {
    public GuestMemoryTarget {
        if (pid <= 0) {
            throw new IllegalArgumentException("VM " + vmName + ": pid must be positive, got " + pid);
        }
        if (ramBytes <= 0) {
            throw new IllegalArgumentException("VM " + vmName + ": memory must be positive, got " + ramBytes);
        }
    }

    public GuestMemoryTarget(String vmName, int pid, long ramBytes) {
        this(vmName, pid, ramBytes, OptionalLong.empty());
    }
}
