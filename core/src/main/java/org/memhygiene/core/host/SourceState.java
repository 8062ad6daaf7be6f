package org.memhygiene.core.host;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One source of a host snapshot after it was sampled: KSM ({@value #KSM}), the host's memory
 * ({@value #HOST_MEMORY}), the VMs ({@value #LIBVIRT} on a real host, {@value #SIMULATOR} on a simulated
 * one), and each VM's agent ({@value #AGENT_PREFIX}NAME). Each is sampled on its own: one that fails is
 * down, the others' figures are still served, and its own last figures stay in the snapshot, stale.
 *
 * @param name          the source's name, as in {@code memhygiene_source_up{source=...}}
 * @param up            whether its last read succeeded
 * @param stale         down, and the snapshot carries its figures of an earlier read
 * @param lastSuccessAt when it was last read successfully; empty when never
 * @param ageMillis     how old its figures in this snapshot are: 0 when up, the time since the last
 *                      success when stale, empty when it has none
 * @param error         why its last read failed; empty when up
 */
public record SourceState(
        String name,
        boolean up,
        boolean stale,
        Optional<Instant> lastSuccessAt,
        OptionalLong ageMillis,
        Optional<String> error) {

    public static final String KSM = "ksm";
    public static final String HOST_MEMORY = "host_memory";
    public static final String LIBVIRT = "libvirt";
    public static final String SIMULATOR = "simulator";
    public static final String AGENT_PREFIX = "agent/";

    /** A source read successfully at {@code at}. */
    public static SourceState up(String name, Instant at) {
        return new SourceState(name, true, false, Optional.of(at), OptionalLong.of(0), Optional.empty());
    }

    /** A source whose read failed at {@code at}; stale when it was read successfully before. */
    public static SourceState down(String name, String error, Optional<Instant> lastSuccessAt, Instant at) {
        return new SourceState(
                name,
                false,
                lastSuccessAt.isPresent(),
                lastSuccessAt,
                lastSuccessAt
                        .map(last -> OptionalLong.of(Math.max(0, at.toEpochMilli() - last.toEpochMilli())))
                        .orElse(OptionalLong.empty()),
                Optional.of(error));
    }

    /** The source of the agent of the VM called {@code vmName}. */
    public static String agent(String vmName) {
        return AGENT_PREFIX + vmName;
    }
}
