package org.memhygiene.controller.libvirt;

import java.util.Map;
import java.util.OptionalLong;

/**
 * KSM as libvirt reports it through virNodeGetMemoryParameters
 * (https://libvirt.org/html/libvirt-libvirt-host.html#virNodeGetMemoryParameters; libvirt reads
 * /sys/kernel/mm/ksm). A parameter the host's libvirt or kernel does not report is absent, not 0
 * (shm_merge_across_nodes exists only on NUMA kernels).
 */
public record NodeMemoryParameters(
        OptionalLong pagesToScan,
        OptionalLong sleepMillis,
        OptionalLong pagesShared,
        OptionalLong pagesSharing,
        OptionalLong pagesUnshared,
        OptionalLong pagesVolatile,
        OptionalLong fullScans,
        OptionalLong mergeAcrossNodes) {

    /** libvirt's parameter names, VIR_NODE_MEMORY_SHARED_*. */
    public static final String PAGES_TO_SCAN = "shm_pages_to_scan";

    public static final String SLEEP_MILLISECS = "shm_sleep_millisecs";
    public static final String PAGES_SHARED = "shm_pages_shared";
    public static final String PAGES_SHARING = "shm_pages_sharing";
    public static final String PAGES_UNSHARED = "shm_pages_unshared";
    public static final String PAGES_VOLATILE = "shm_pages_volatile";
    public static final String FULL_SCANS = "shm_full_scans";
    public static final String MERGE_ACROSS_NODES = "shm_merge_across_nodes";

    static NodeMemoryParameters of(Map<String, Long> byName) {
        return new NodeMemoryParameters(
                get(byName, PAGES_TO_SCAN),
                get(byName, SLEEP_MILLISECS),
                get(byName, PAGES_SHARED),
                get(byName, PAGES_SHARING),
                get(byName, PAGES_UNSHARED),
                get(byName, PAGES_VOLATILE),
                get(byName, FULL_SCANS),
                get(byName, MERGE_ACROSS_NODES));
    }

    private static OptionalLong get(Map<String, Long> byName, String name) {
        Long value = byName.get(name);
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }
}
