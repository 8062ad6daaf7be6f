package org.memhygiene.core.host;

/**
 * One domain in an inventory sample.
 *
 * @param uuid               as libvirt prints it, e.g. {@code 6695eb01-f6a4-8304-79aa-97f2502e193f}
 * @param vcpus              virtual CPUs now
 * @param maxMemoryBytes     the most memory the domain may have ({@code <memory>})
 * @param currentMemoryBytes the memory the domain has now ({@code <currentMemory>}, the balloon target)
 * @param balloonStats       memory statistics; all absent for a domain that is not running
 */
public record DomainSample(
        String name,
        String uuid,
        DomainState state,
        int vcpus,
        long maxMemoryBytes,
        long currentMemoryBytes,
        BalloonStats balloonStats) {}
