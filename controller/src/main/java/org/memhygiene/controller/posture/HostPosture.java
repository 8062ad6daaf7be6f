package org.memhygiene.controller.posture;

import java.util.List;
import java.util.Optional;
import org.memhygiene.core.posture.Finding;

/**
 * The posture of one host snapshot (docs/POSTURE.md): the host's own score and findings, and one
 * {@link VmPosture} per VM in the snapshot's order.
 *
 * @param hostScore    0 to 100, {@link PostureRubric#score} of {@code hostFindings}
 * @param hostFindings what all VMs on the host share: KSM, the host's swap, CPU mitigations; worst first
 * @param vms          one per VM of the snapshot
 */
public record HostPosture(int hostScore, List<Finding> hostFindings, List<VmPosture> vms) {
    public HostPosture {
        hostFindings = List.copyOf(hostFindings);
        vms = List.copyOf(vms);
    }

    /** The VM with this UUID (as libvirt prints it). */
    public Optional<VmPosture> vm(String uuid) {
        return vms.stream().filter(v -> v.uuid().equalsIgnoreCase(uuid)).findFirst();
    }
}
