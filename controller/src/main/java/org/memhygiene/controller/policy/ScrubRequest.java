package org.memhygiene.controller.policy;

/**
 * A policy's request that one VM's agent zero the guest's free memory once (the agent's {@code scrub}
 * request), so that KSM with use_zero_pages=1 can map those pages to the kernel's zero page.
 *
 * @param vmUuid   the domain's UUID, as libvirt prints it
 * @param vmName   the domain's name, for people
 * @param maxBytes the most the agent should zero in this scrub
 */
public record ScrubRequest(String vmUuid, String vmName, long maxBytes) {
    public ScrubRequest {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
        }
    }
}
