package org.memhygiene.controller.posture;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.memhygiene.core.posture.Finding;

/**
 * The posture documents the CLI ({@code posture --json}) and the API (GET /api/v1/posture, the
 * {@code posture} object of each VM document) share, as records the one mapper (core Json) writes;
 * docs/API.md and docs/CLI.md list the keys. A VM is its {@link VmPosture} ({"name", "uuid", "score",
 * "findings"}), a finding its {@link Finding} ({"id", "severity", "title", "evidence", "remediation"}, as the
 * agent sends them, docs/PROTOCOL.md).
 */
public final class PostureJson {
    private PostureJson() {}

    /** {"sampled_at", "host": {"score", "findings"}, "vms": [{"name", "uuid", "score", "findings"}]}. */
    public record Document(Instant sampledAt, Brief host, List<VmPosture> vms) {}

    /** {"score", "findings"}: the host's. */
    public record Brief(int score, List<Finding> findings) {}

    /**
     * {"score", "findings", "measured_at"}: the {@code posture} object of a VM document; {@code measured_at} when a
     * deduplication probe measured its cross-VM exposure, null when that is assumed (docs/POSTURE.md).
     */
    public record VmBrief(int score, List<Finding> findings, Optional<Instant> measuredAt) {}

    public static Document document(HostPosture posture, Instant sampledAt) {
        return new Document(sampledAt, new Brief(posture.hostScore(), posture.hostFindings()), posture.vms());
    }

    public static VmBrief brief(VmPosture vm) {
        return new VmBrief(vm.score(), vm.findings(), vm.measuredAt());
    }
}
