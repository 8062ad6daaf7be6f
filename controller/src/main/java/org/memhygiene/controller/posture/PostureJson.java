package org.memhygiene.controller.posture;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.posture.Finding;

/**
 * The posture documents the CLI ({@code posture --json}) and the API (GET /api/v1/posture, the
 * {@code posture} object of each VM document) share; docs/API.md and docs/CLI.md list the keys.
 */
public final class PostureJson {
    private PostureJson() {}

    /** {"sampled_at", "host": {"score", "findings"}, "vms": [{"name", "uuid", "score", "findings"}]}. */
    public static ObjectNode document(HostPosture posture, Instant sampledAt) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("sampled_at", sampledAt.toString());
        ObjectNode host = root.putObject("host");
        host.put("score", posture.hostScore());
        findings(host, posture);
        ArrayNode vms = root.putArray("vms");
        posture.vms().forEach(vm -> vms.add(vm(vm)));
        return root;
    }

    /** {"name", "uuid", "score", "findings"}. */
    public static ObjectNode vm(VmPosture vm) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("name", vm.name());
        node.put("uuid", vm.uuid());
        node.put("score", vm.score());
        node.set("findings", findings(vm));
        return node;
    }

    /** {"score", "findings"}: the {@code posture} object of a VM document. */
    public static ObjectNode brief(VmPosture vm) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("score", vm.score());
        node.set("findings", findings(vm));
        return node;
    }

    private static ArrayNode findings(VmPosture vm) {
        ArrayNode array = Json.mapper().createArrayNode();
        vm.findings().forEach(f -> array.add(finding(f)));
        return array;
    }

    private static void findings(ObjectNode host, HostPosture posture) {
        ArrayNode array = host.putArray("findings");
        posture.hostFindings().forEach(f -> array.add(finding(f)));
    }

    /** {"id", "severity", "title", "evidence", "remediation"}, as the agent sends them (docs/PROTOCOL.md). */
    static ObjectNode finding(Finding f) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", f.id());
        node.put("severity", f.severity().name());
        node.put("title", f.title());
        node.put("evidence", f.evidence());
        node.put("remediation", f.remediation());
        return node;
    }
}
