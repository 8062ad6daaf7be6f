package org.memhygiene.controller.libvirt;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The writable node memory parameters, checked before anything reaches libvirt: the three libvirt
 * accepts for virNodeSetMemoryParameters (all unsigned int,
 * https://libvirt.org/html/libvirt-libvirt-host.html#VIR_NODE_MEMORY_SHARED_PAGES_TO_SCAN). Absent
 * ones are left unchanged.
 */
public record NodeMemorySettings(OptionalLong pagesToScan, OptionalLong sleepMillis, OptionalLong mergeAcrossNodes) {
    private static final long UINT_MAX = 0xFFFF_FFFFL;

    public NodeMemorySettings {
        check(NodeMemoryParameters.PAGES_TO_SCAN, pagesToScan, UINT_MAX);
        check(NodeMemoryParameters.SLEEP_MILLISECS, sleepMillis, UINT_MAX);
        check(NodeMemoryParameters.MERGE_ACROSS_NODES, mergeAcrossNodes, 1);
        if (pagesToScan.isEmpty() && sleepMillis.isEmpty() && mergeAcrossNodes.isEmpty()) {
            throw new IllegalArgumentException("no node memory parameter to set");
        }
    }

    /**
     * From NAME=VALUE text such as the CLI takes: names are libvirt's (shm_pages_to_scan,
     * shm_sleep_millisecs, shm_merge_across_nodes), values decimal integers.
     *
     * @throws IllegalArgumentException naming the parameter and the value when either is not allowed
     */
    public static NodeMemorySettings parse(Map<String, String> text) {
        OptionalLong pagesToScan = OptionalLong.empty();
        OptionalLong sleepMillis = OptionalLong.empty();
        OptionalLong mergeAcrossNodes = OptionalLong.empty();
        for (Map.Entry<String, String> entry : text.entrySet()) {
            OptionalLong value = OptionalLong.of(parseUnsigned(entry.getKey(), entry.getValue()));
            switch (entry.getKey()) {
                case NodeMemoryParameters.PAGES_TO_SCAN -> pagesToScan = value;
                case NodeMemoryParameters.SLEEP_MILLISECS -> sleepMillis = value;
                case NodeMemoryParameters.MERGE_ACROSS_NODES -> mergeAcrossNodes = value;
                default ->
                    throw new IllegalArgumentException("unknown or read-only node memory parameter "
                            + entry.getKey() + "; settable: " + NodeMemoryParameters.PAGES_TO_SCAN + ", "
                            + NodeMemoryParameters.SLEEP_MILLISECS + ", " + NodeMemoryParameters.MERGE_ACROSS_NODES);
            }
        }
        return new NodeMemorySettings(pagesToScan, sleepMillis, mergeAcrossNodes);
    }

    /** The parameters to pass, by libvirt name, in a stable order. */
    Map<String, Long> byName() {
        Map<String, Long> byName = new LinkedHashMap<>();
        pagesToScan.ifPresent(v -> byName.put(NodeMemoryParameters.PAGES_TO_SCAN, v));
        sleepMillis.ifPresent(v -> byName.put(NodeMemoryParameters.SLEEP_MILLISECS, v));
        mergeAcrossNodes.ifPresent(v -> byName.put(NodeMemoryParameters.MERGE_ACROSS_NODES, v));
        return byName;
    }

    private static long parseUnsigned(String name, String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + value + ": not an integer", e);
        }
    }

    private static void check(String name, OptionalLong value, long max) {
        if (value.isPresent() && (value.getAsLong() < 0 || value.getAsLong() > max)) {
            throw new IllegalArgumentException(name + "=" + value.getAsLong() + ": must be 0.." + max);
        }
    }
}
