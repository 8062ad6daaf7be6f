package org.memhygiene.ui.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.Severity;

/**
 * Reads the controller's JSON documents (docs/API.md) into the dashboard's records. Parsed leniently on
 * purpose: a controller of another version may add keys, and a figure it lacks is absent, not an error.
 */
public final class ApiDocuments {
    private ApiDocuments() {}

    /** The host part of GET /api/v1/snapshot. */
    public static HostView host(JsonNode snapshot) {
        requireObject(snapshot, "GET /api/v1/snapshot");
        JsonNode ksm = snapshot.path("ksm");
        Optional<KsmView> ksmView = Optional.empty();
        if (ksm.isObject()) {
            JsonNode s = ksm.path("stats");
            ksmView = Optional.of(new KsmView(
                    optLong(s, "pages_sharing"),
                    optLong(s, "ksm_zero_pages"),
                    optLong(s, "pages_scanned"),
                    optLong(s, "full_scans"),
                    optLong(s, "run"),
                    optLong(s, "pages_to_scan"),
                    optLong(s, "sleep_millisecs"),
                    optLong(s, "use_zero_pages")));
        }
        JsonNode memory = snapshot.path("memory");
        return new HostView(
                instant(snapshot, "sampled_at"),
                snapshot.path("uri").asText(""),
                snapshot.path("page_size_bytes").asLong(),
                ksmView,
                optLong(memory, "mem_total_bytes"),
                optLong(memory, "mem_free_bytes"),
                optLong(memory, "mem_available_bytes"),
                optLong(snapshot, "ksmd_cpu_millis"));
    }

    /** The {@code vms} of GET /api/v1/vms or of a live-stream event. */
    public static List<VmView> vms(JsonNode document) {
        requireObject(document, "the VM list");
        List<VmView> vms = new ArrayList<>();
        for (JsonNode vm : document.path("vms")) {
            vms.add(vm(vm));
        }
        return vms;
    }

    /** The {@code sampled_at} of a VM list or snapshot document. */
    public static Instant sampledAt(JsonNode document) {
        return instant(document, "sampled_at");
    }

    public static VmView vm(JsonNode vm) {
        JsonNode domain = vm.path("domain");
        JsonNode config = vm.path("config");
        JsonNode stat = vm.path("ksm").path("stat");
        JsonNode agent = vm.path("agent");
        JsonNode posture = vm.path("posture");
        OptionalInt score = posture.path("score").isNumber()
                ? OptionalInt.of(posture.path("score").asInt())
                : OptionalInt.empty();
        // The controller's findings when it scores posture; the agent's own report otherwise.
        JsonNode findingNodes = posture.path("findings").isArray() ? posture.path("findings") : agent.path("posture");
        List<Finding> findings = new ArrayList<>();
        for (JsonNode f : findingNodes) {
            findings.add(new Finding(
                    f.path("id").asText(""),
                    severity(f.path("severity").asText("INFO")),
                    f.path("title").asText(""),
                    f.path("evidence").asText(""),
                    f.path("remediation").asText("")));
        }
        return new VmView(
                domain.path("name").asText("?"),
                domain.path("uuid").asText(""),
                domain.path("state").asText("?"),
                domain.path("current_memory_bytes").asLong(0),
                optLong(vm, "ksm_saved_bytes"),
                optLong(stat, "merging_pages"),
                optLong(stat, "zero_pages"),
                optLong(domain.path("balloon_stats"), "rss_bytes"),
                config.path("balloon").path("free_page_reporting").asBoolean(false),
                agent.path("status").asText("?"),
                config.path("posture").asText(""),
                score,
                findings,
                guestMemory(vm.path("guest_memory")),
                posture.path("measured_at").isTextual()
                        ? Optional.of(Instant.parse(posture.path("measured_at").asText()))
                        : Optional.empty());
    }

    /** The VM's {@code guest_memory}; empty when it is null or from a controller that does not measure it. */
    static Optional<GuestMemoryView> guestMemory(JsonNode g) {
        if (!g.isObject() || !g.path("method_label").isTextual()) {
            return Optional.empty();
        }
        JsonNode p = g.path("pages");
        Instant measuredAt;
        try {
            measuredAt = Instant.parse(g.path("measured_at").asText(""));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
        return Optional.of(new GuestMemoryView(
                g.path("method_label").asText(),
                g.path("method_description").asText(""),
                g.path("page_size_bytes").asLong(),
                g.path("guest_ram_pages").asLong(),
                optLong(p, "resident"),
                optLong(p, "ksm"),
                optLong(p, "ksm_saved"),
                optLong(p, "zero"),
                optLong(p, "zero_never_backed"),
                optLong(p, "huge_zero"),
                optLong(p, "swapped"),
                optLong(p, "not_present"),
                optLong(p, "given_back"),
                optLong(g, "reclaimed_bytes"),
                measuredAt));
    }

    private static Severity severity(String text) {
        try {
            return Severity.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Severity.INFO;
        }
    }

    private static void requireObject(JsonNode node, String what) {
        if (node == null || !node.isObject()) {
            throw new ApiException(0, what + ": expected a JSON object from the controller, got " + node);
        }
    }

    private static Instant instant(JsonNode node, String key) {
        String text = node.path(key).asText("");
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new ApiException(0, key + " = '" + text + "': expected an ISO-8601 instant from the controller");
        }
    }

    static OptionalLong optLong(JsonNode node, String key) {
        JsonNode value = node.path(key);
        return value.isNumber() ? OptionalLong.of(value.asLong()) : OptionalLong.empty();
    }
}
