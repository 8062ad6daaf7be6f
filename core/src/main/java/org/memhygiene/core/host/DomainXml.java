package org.memhygiene.core.host;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the controller needs from a domain's XML (https://libvirt.org/formatdomain.html).
 *
 * @param name             the domain's name
 * @param memoryBacking    the memoryBacking flags that decide whether KSM may touch the guest
 * @param balloon          the memory balloon; empty when there is none ({@code model='none'} or no element)
 * @param agentChannel     our virtio-serial channel {@value #AGENT_CHANNEL}, when the domain has one
 * @param guestAgentChannel whether the qemu-guest-agent channel {@value #GUEST_AGENT_CHANNEL} exists
 * @param posture          the memhygiene posture metadata, when present and valid
 */
public record DomainXml(
        String name,
        MemoryBacking memoryBacking,
        Optional<Balloon> balloon,
        Optional<AgentChannel> agentChannel,
        boolean guestAgentChannel,
        Optional<PostureLevel> posture) {

    public static final String AGENT_CHANNEL = "org.memhygiene.agent.0";
    public static final String GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0";
    public static final String POSTURE_NAMESPACE = "https://memhygiene.org/xmlns/posture/1.0";

    /**
     * https://libvirt.org/formatdomain.html#memory-backing
     *
     * @param noSharePages {@code <nosharepages/>}: QEMU does not mark guest RAM mergeable, KSM never sees it
     * @param locked       {@code <locked/>}: guest RAM is mlocked, never swapped
     * @param hugepages    {@code <hugepages/>}: backed by huge pages, which KSM does not merge
     */
    public record MemoryBacking(boolean noSharePages, boolean locked, boolean hugepages) {}

    /**
     * https://libvirt.org/formatdomain.html#memory-balloon-device
     *
     * @param model              e.g. {@code virtio}
     * @param freePageReporting  {@code freePageReporting='on'}: the guest hands free pages back to the host
     * @param statsPeriodSeconds {@code <stats period='N'/>}; empty when not set (libvirt then collects none)
     */
    public record Balloon(String model, boolean freePageReporting, OptionalInt statsPeriodSeconds) {}

    /**
     * https://libvirt.org/formatdomain.html#channel
     *
     * @param socketPath the host-side unix socket; empty when libvirt generates it and the domain is not
     *                   running (the live XML of a running domain carries the generated path)
     */
    public record AgentChannel(Optional<Path> socketPath) {}
}
