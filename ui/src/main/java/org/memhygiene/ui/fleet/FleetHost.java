package org.memhygiene.ui.fleet;

import java.net.URI;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One host of the fleet as Prometheus has it (docs/FLEET.md, "The fleet view"): its scrape target, whether
 * the last scrape worked, its VMs, the guest RAM they gave back, its posture score and the alerts firing for it.
 *
 * @param instance       Prometheus's instance label, the daemon's API address (host:port)
 * @param up             the last scrape worked ({@code up} = 1)
 * @param vms            VMs the daemon reports (series of memhygiene_vm_agent_up)
 * @param reclaimedBytes sum of memhygiene_vm_reclaimed_bytes; empty when Prometheus has none
 * @param reclaimedMethods how those figures were measured: each method of memhygiene_vm_guest_memory_method
 *                       with its number of VMs, e.g. "pagemap_scan+kpageflags ×3", sorted
 * @param postureScore   memhygiene_posture_score{scope="host"}; empty when Prometheus has none
 * @param firingAlerts   the names of the alerts firing with this instance, sorted
 */
public record FleetHost(
        String instance,
        boolean up,
        long vms,
        OptionalLong reclaimedBytes,
        List<String> reclaimedMethods,
        OptionalDouble postureScore,
        List<String> firingAlerts) {

    /** The daemon's API, where the host's own dashboard connects: Prometheus scraped its /metrics there. */
    public URI controllerUrl() {
        return URI.create("http://" + instance);
    }
}
