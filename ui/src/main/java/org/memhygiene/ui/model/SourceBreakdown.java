package org.memhygiene.ui.model;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.ui.api.GuestMemoryView;
import org.memhygiene.ui.api.HostView;
import org.memhygiene.ui.api.VmView;

/**
 * Where reclaimed memory came from, for the whole host and per VM (keyed by UUID). The seam between a
 * live controller ({@link #FROM_API}: its measurements of each VM's guest RAM, else its KSM counters and
 * balloon statistics) and the built-in simulator (which knows it exactly, SimulatedHost.exposure()).
 */
public interface SourceBreakdown {
    record Result(Reclaimed host, Map<String, Reclaimed> vms) {}

    Result of(HostView host, List<VmView> vms);

    /** The pass over the VM's guest RAM where it measured page states; else the VM is KSM-accounted. */
    static Optional<GuestMemoryView> measuredPages(VmView vm) {
        return vm.guestMemory().filter(GuestMemoryView::pageStates);
    }

    /** Whether a KSM-accounted VM's given back memory is estimated from its balloon (it reports free pages). */
    static boolean givenBackFromBalloon(VmView vm) {
        return vm.freePageReporting() && vm.rssBytes().isPresent();
    }

    /**
     * From the API (docs/DASHBOARD.md, "Where the figures come from"). A VM whose guest RAM the controller
     * measured page by page (docs/RECLAIM.md): zero pages are its pages mapped to the zero page, given back
     * its pages given back, and sharing what KSM sharing saves it (kpagecount), else its ksm_merging_pages.
     * Any other VM, by its KSM counters: sharing ksm_merging_pages, zero pages ksm_zero_pages, and, for a VM
     * whose balloon reports free pages, given back estimated as its memory neither resident (balloon rss) nor
     * merged with the zero page. The host: the sum over its VMs when any was measured page by page; else
     * pages_sharing and ksm_zero_pages (Documentation/admin-guide/mm/ksm.rst, "Monitoring KSM") and the
     * VMs' free page reporting.
     */
    SourceBreakdown FROM_API = (host, vms) -> {
        long page = host.pageSizeBytes();
        Map<String, Reclaimed> perVm = new HashMap<>();
        Reclaimed sum = Reclaimed.NONE;
        boolean measured = false;
        long reported = 0;
        for (VmView vm : vms) {
            Optional<GuestMemoryView> pages = measuredPages(vm);
            Reclaimed r;
            if (pages.isPresent()) {
                GuestMemoryView g = pages.get();
                OptionalLong sharing = g.bytes(g.ksmSavedPages());
                r = new Reclaimed(
                        sharing.isPresent()
                                ? sharing.getAsLong()
                                : vm.mergedPages().orElse(0) * page,
                        g.bytes(g.zeroReclaimedPages()).orElse(0),
                        g.bytes(g.givenBackPages()).orElse(0));
                measured = true;
            } else {
                long zero = vm.zeroPages().orElse(0) * page;
                long fpr = 0;
                if (givenBackFromBalloon(vm)) {
                    fpr = Math.max(0, vm.memoryBytes() - vm.rssBytes().getAsLong() - zero);
                }
                r = new Reclaimed(vm.mergedPages().orElse(0) * page, zero, fpr);
            }
            reported += r.freePageReportingBytes();
            sum = sum.plus(r);
            perVm.put(vm.uuid(), r);
        }
        if (measured) {
            return new Result(sum, perVm);
        }
        long sharing = host.ksm()
                        .flatMap(k -> k.pagesSharing().isPresent()
                                ? Optional.of(k.pagesSharing().getAsLong())
                                : Optional.empty())
                        .orElse(0L)
                * page;
        long zero = host.ksm()
                        .flatMap(k -> k.zeroPages().isPresent()
                                ? Optional.of(k.zeroPages().getAsLong())
                                : Optional.empty())
                        .orElse(0L)
                * page;
        return new Result(new Reclaimed(sharing, zero, reported), perVm);
    };
}
