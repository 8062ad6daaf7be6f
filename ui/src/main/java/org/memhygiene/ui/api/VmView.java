package org.memhygiene.ui.api;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Function;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.DomainState;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.posture.Finding;

/**
 * One VM document of GET /api/v1/vms or the live stream, reduced to what the dashboard shows.
 *
 * @param name              the domain's name
 * @param uuid              the domain's UUID
 * @param state             libvirt's state (RUNNING, SHUT_OFF, ...)
 * @param memoryBytes       current guest memory
 * @param savedBytes        KSM-accounted: what ksm_stat says KSM saves its QEMU process (merged + zero pages)
 * @param mergedPages       ksm_merging_pages of its QEMU process (KSM-accounted)
 * @param zeroPages         ksm_zero_pages of its QEMU process (KSM-accounted)
 * @param rssBytes          the balloon's resident-set figure, for free page reporting
 * @param freePageReporting whether its balloon reports free pages to the host
 * @param agentStatus       the agent link's status (OK, NO_CHANNEL, ...)
 * @param postureLevel      its posture metadata (DENSE, BALANCED, SENSITIVE) or empty text
 * @param postureScore      the controller's posture score 0-100; absent when the controller does not score
 * @param findings          the posture findings (the controller's, else the agent's)
 * @param postureMeasuredAt when a deduplication probe measured whether its memory is merged with other VMs';
 *                          empty: the posture assumes it from configuration
 * @param guestMemory       its guest RAM page by page, as the controller last measured it; empty when not measured
 */
public record VmView(
        String name,
        String uuid,
        String state,
        long memoryBytes,
        OptionalLong savedBytes,
        OptionalLong mergedPages,
        OptionalLong zeroPages,
        OptionalLong rssBytes,
        boolean freePageReporting,
        String agentStatus,
        String postureLevel,
        OptionalInt postureScore,
        List<Finding> findings,
        Optional<GuestMemoryView> guestMemory,
        Optional<Instant> postureMeasuredAt) {

    public VmView {
        findings = List.copyOf(findings);
    }

    /** A VM whose guest RAM is not measured. */
    public VmView(
            String name,
            String uuid,
            String state,
            long memoryBytes,
            OptionalLong savedBytes,
            OptionalLong mergedPages,
            OptionalLong zeroPages,
            OptionalLong rssBytes,
            boolean freePageReporting,
            String agentStatus,
            String postureLevel,
            OptionalInt postureScore,
            List<Finding> findings) {
        this(
                name,
                uuid,
                state,
                memoryBytes,
                savedBytes,
                mergedPages,
                zeroPages,
                rssBytes,
                freePageReporting,
                agentStatus,
                postureLevel,
                postureScore,
                findings,
                Optional.empty(),
                Optional.empty());
    }

    /** Its state as virsh and the CLI write it ("shut off"); a state this build does not know, as sent. */
    public String stateLabel() {
        return label(DomainState.class, state, DomainState::label);
    }

    /** Its agent link's status as the CLI writes it ("no channel"). */
    public String agentLabel() {
        return label(AgentStatus.class, agentStatus, AgentStatus::label);
    }

    /** Its posture level as its domain XML and the CLI write it ("dense"), or empty text. */
    public String postureLevelLabel() {
        return label(PostureLevel.class, postureLevel, PostureLevel::label);
    }

    /** The API sends the constant's name; a newer controller's constant is shown as it came. */
    private static <E extends Enum<E>> String label(Class<E> type, String name, Function<E, String> label) {
        try {
            return label.apply(Enum.valueOf(type, name));
        } catch (IllegalArgumentException e) {
            return name;
        }
    }
}
