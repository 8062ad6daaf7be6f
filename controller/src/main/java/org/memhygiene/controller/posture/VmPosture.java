package org.memhygiene.controller.posture;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.memhygiene.core.posture.Finding;

/**
 * One VM's posture: what the host knows of it ({@code vm.*} findings: sharing, locking, its agent) and
 * what its agent reported from inside ({@code guest.*} findings), scored by {@link PostureRubric}.
 *
 * @param score      0 to 100
 * @param findings   worst first
 * @param measuredAt when a deduplication probe measured whether its memory is merged with other VMs' (its
 *                   {@code host.ksm.cross_vm_observed} or {@code …_not_observed} finding); empty: that is
 *                   assumed from its configuration and KSM's counters
 */
public record VmPosture(String name, String uuid, int score, List<Finding> findings, Optional<Instant> measuredAt) {
    public VmPosture {
        findings = List.copyOf(findings);
    }
}
