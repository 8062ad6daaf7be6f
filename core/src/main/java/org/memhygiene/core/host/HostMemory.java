package org.memhygiene.core.host;

import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The host's own memory, from /proc/meminfo and /proc/pressure/memory
 * (https://docs.kernel.org/filesystems/proc.html#meminfo, https://docs.kernel.org/accounting/psi.html).
 * A field the running kernel does not print is absent.
 *
 * @param memTotalBytes             MemTotal
 * @param memFreeBytes              MemFree
 * @param memAvailableBytes         MemAvailable: what can be allocated without swapping
 * @param buffersBytes              Buffers
 * @param cachedBytes               Cached
 * @param swapTotalBytes            SwapTotal
 * @param swapFreeBytes             SwapFree
 * @param pressureSomeAvg10Percent  "some avg10" of memory pressure; empty without PSI
 */
public record HostMemory(
        long memTotalBytes,
        long memFreeBytes,
        OptionalLong memAvailableBytes,
        long buffersBytes,
        long cachedBytes,
        long swapTotalBytes,
        long swapFreeBytes,
        OptionalDouble pressureSomeAvg10Percent) {}
