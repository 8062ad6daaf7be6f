package org.memhygiene.controller.host;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.OptionalLong;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureJson;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.json.Json;

/**
 * The JSON documents of a host snapshot that the CLI (`vms --json`, `vm show --json`) and the HTTP API
 * share (docs/CLI.md, docs/API.md): the records as Jackson writes them, plus the derived figures.
 */
public final class SnapshotJson {
    private SnapshotJson() {}

    /** {"uri", "sampled_at", "took_millis", "page_size_bytes", "vms": [...]}, each VM with its posture. */
    public static ObjectNode vms(HostSnapshot sample, HostPosture posture) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("uri", sample.uri());
        root.put("sampled_at", sample.sampledAt().toString());
        root.put("took_millis", sample.took().toMillis());
        root.put("page_size_bytes", sample.pageSizeBytes());
        ArrayNode vms = root.putArray("vms");
        for (int i = 0; i < sample.vms().size(); i++) {
            vms.add(vm(
                    sample.vms().get(i), sample.pageSizeBytes(), posture.vms().get(i)));
        }
        return root;
    }

    /**
     * One VM: the record (its {@code guest_memory} with method_label, method_description, reclaimed_pages and
     * reclaimed_bytes added) plus reclaimed_bytes and reclaimed_method, the KSM-accounted ksm_saved_bytes,
     * zero_page_bytes and zero_pages_percent_of_unused, sharing_allowed and posture ({"score", "findings"}).
     */
    public static ObjectNode vm(VmSnapshot vm, long pageSizeBytes, VmPosture posture) {
        ObjectNode node = Json.mapper().valueToTree(vm);
        putOptional(node, "reclaimed_bytes", vm.reclaimedBytes());
        vm.guestMemory()
                .ifPresentOrElse(
                        measured -> {
                            node.put("reclaimed_method", measured.methodDescription());
                            ObjectNode guest = (ObjectNode) node.get("guest_memory");
                            guest.put("method_label", measured.method().label());
                            guest.put("method_description", measured.methodDescription());
                            putOptional(guest, "reclaimed_pages", measured.reclaimedPages());
                            putOptional(guest, "reclaimed_bytes", measured.reclaimedBytes());
                        },
                        () -> node.putNull("reclaimed_method"));
        putOptional(node, "ksm_saved_bytes", vm.ksmSavedBytes(pageSizeBytes));
        putOptional(node, "zero_page_bytes", vm.zeroPageBytes(pageSizeBytes));
        putOptional(node, "zero_pages_percent_of_unused", vm.zeroPagesPercentOfUnused(pageSizeBytes));
        vm.sharingAllowed()
                .ifPresentOrElse(
                        allowed -> node.put("sharing_allowed", allowed), () -> node.putNull("sharing_allowed"));
        node.set("posture", PostureJson.brief(posture));
        return node;
    }

    private static void putOptional(ObjectNode node, String key, OptionalLong value) {
        if (value.isPresent()) {
            node.put(key, value.getAsLong());
        } else {
            node.putNull(key);
        }
    }
}
