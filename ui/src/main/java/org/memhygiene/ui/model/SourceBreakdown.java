package org.memhygiene.ui.model;

import java.util.List;
import java.util.Map;
import org.memhygiene.ui.api.HostView;
import org.memhygiene.ui.api.VmView;

/**
 * Where reclaimed memory came from, for the whole host and per VM (keyed by UUID). The seam between a
 * live controller (estimated from its KSM counters and balloon statistics, {@link #FROM_API}) and the
 * built-in simulator (which knows it exactly, SimulatedHost.exposure()).
 */
public interface SourceBreakdown {
    record Result(Reclaimed host, Map<String, Reclaimed> vms) {
    }

    Result of(HostView host, List<VmView> vms);

    /**
     * From the API: sharing is pages_sharing (KSM's own "how much is saved" for non-zero pages) and zero
     * pages ksm_zero_pages (Documentation/admin-guide/mm/ksm.rst, "Monitoring KSM"); free page reporting,
     * for a VM whose balloon reports free pages, is its memory neither resident (balloon rss) nor
     * merged with the zero page (docs/DASHBOARD.md, "Where the figures come from").
     */
    SourceBreakdown FROM_API = (host, vms) -> {
        long page = host.pageSizeBytes();
        Map<String, Reclaimed> perVm = new java.util.HashMap<>();
        long reported = 0;
        for (VmView vm : vms) {
            long zero = vm.zeroPages().orElse(0) * page;
            long fpr = 0;
            if (vm.freePageReporting() && vm.rssBytes().isPresent()) {
                fpr = Math.max(0, vm.memoryBytes() - vm.rssBytes().getAsLong() - zero);
            }
            reported += fpr;
            perVm.put(vm.uuid(), new Reclaimed(vm.mergedPages().orElse(0) * page, zero, fpr));
        }
        long sharing = host.ksm().flatMap(k -> k.pagesSharing().isPresent() ? java.util.Optional.of(k.pagesSharing().getAsLong())
                : java.util.Optional.empty()).orElse(0L) * page;
        long zero = host.ksm().flatMap(k -> k.zeroPages().isPresent() ? java.util.Optional.of(k.zeroPages().getAsLong())
                : java.util.Optional.empty()).orElse(0L) * page;
        return new Result(new Reclaimed(sharing, zero, reported), perVm);
    };
}
