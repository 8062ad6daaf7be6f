package org.memhygiene.controller.host;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureJson;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;

/**
 * The JSON documents of a host snapshot that the CLI (`vms --json`, `vm show --json`) and the HTTP API
 * share (docs/CLI.md, docs/API.md), as records the one mapper (core Json) writes: the snapshot's records
 * as they are, plus the derived figures.
 */
public final class SnapshotJson {
    private SnapshotJson() {}

    /** {"uri", "sampled_at", "took_millis", "page_size_bytes", "vms": [...]}, each VM with its posture. */
    public record Vms(String uri, Instant sampledAt, long tookMillis, long pageSizeBytes, List<Vm> vms) {}

    /**
     * One VM: the {@link VmSnapshot} (its {@code guest_memory} with the derived figures of
     * {@link GuestMemoryDocument}), plus reclaimed_bytes and reclaimed_method, the KSM-accounted ksm_saved_bytes,
     * zero_page_bytes and zero_pages_percent_of_unused, sharing_allowed and posture ({"score", "findings"}).
     */
    public record Vm(
            @JsonUnwrapped @JsonIgnoreProperties("guest_memory")
            VmSnapshot snapshot,

            Optional<GuestMemoryDocument> guestMemory,
            OptionalLong reclaimedBytes,
            Optional<String> reclaimedMethod,
            OptionalLong ksmSavedBytes,
            OptionalLong zeroPageBytes,
            OptionalLong zeroPagesPercentOfUnused,
            Optional<Boolean> sharingAllowed,
            PostureJson.VmBrief posture) {}

    /** A VM's measured guest memory, with method_label, method_description, reclaimed_pages and reclaimed_bytes. */
    public record GuestMemoryDocument(
            @JsonUnwrapped GuestMemory measured,
            String methodLabel,
            String methodDescription,
            OptionalLong reclaimedPages,
            OptionalLong reclaimedBytes) {}

    public static Vms vms(HostSnapshot sample, HostPosture posture) {
        List<Vm> vms = new ArrayList<>();
        for (int i = 0; i < sample.vms().size(); i++) {
            vms.add(vm(
                    sample.vms().get(i), sample.pageSizeBytes(), posture.vms().get(i)));
        }
        return new Vms(sample.uri(), sample.sampledAt(), sample.took().toMillis(), sample.pageSizeBytes(), vms);
    }

    public static Vm vm(VmSnapshot vm, long pageSizeBytes, VmPosture posture) {
        return new Vm(
                vm,
                vm.guestMemory()
                        .map(m -> new GuestMemoryDocument(
                                m, m.method().label(), m.methodDescription(), m.reclaimedPages(), m.reclaimedBytes())),
                vm.reclaimedBytes(),
                vm.guestMemory().map(GuestMemory::methodDescription),
                vm.ksmSavedBytes(pageSizeBytes),
                vm.zeroPageBytes(pageSizeBytes),
                vm.zeroPagesPercentOfUnused(pageSizeBytes),
                vm.sharingAllowed(),
                PostureJson.brief(posture));
    }
}
