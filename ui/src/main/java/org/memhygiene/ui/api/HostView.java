package org.memhygiene.ui.api;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The host part of GET /api/v1/snapshot.
 *
 * @param sampledAt       when the controller took the sample (simulated time on a simulated host)
 * @param backendUri      the snapshot's {@code uri}: the libvirt URI or the simulator's scenario
 * @param pageSizeBytes   the host's page size, for every page counter
 * @param ksm             the host's KSM; empty when the controller cannot see it (remote libvirt host)
 * @param memTotalBytes   MemTotal, empty for a remote host
 * @param memFreeBytes    MemFree
 * @param memAvailableBytes MemAvailable
 * @param ksmdCpuMillis   CPU time ksmd used since boot
 */
public record HostView(
        Instant sampledAt,
        String backendUri,
        long pageSizeBytes,
        Optional<KsmView> ksm,
        OptionalLong memTotalBytes,
        OptionalLong memFreeBytes,
        OptionalLong memAvailableBytes,
        OptionalLong ksmdCpuMillis) {}
