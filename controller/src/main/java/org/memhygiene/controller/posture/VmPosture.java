package org.memhygiene.controller.posture;

import java.util.List;
import org.memhygiene.core.posture.Finding;

/**
 * One VM's posture: what the host knows of it ({@code vm.*} findings: sharing, locking, its agent) and
 * what its agent reported from inside ({@code guest.*} findings), scored by {@link PostureRubric}.
 *
 * @param score    0 to 100
 * @param findings worst first
 */
public record VmPosture(String name, String uuid, int score, List<Finding> findings) {
    public VmPosture {
        findings = List.copyOf(findings);
    }
}
