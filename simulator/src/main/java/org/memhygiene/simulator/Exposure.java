package org.memhygiene.simulator;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the simulated host's memory sharing reclaims and exposes at one moment (docs/SIMULATOR.md,
 * "Exposure").
 *
 * @param sampledAt                 the simulated wall-clock time
 * @param elapsed                   simulated time since the scenario started
 * @param crossVmMergedNonZeroPages guest pages mapped to a non-zero KSM page that a page of another VM
 *                                  maps too: the dedup side-channel surface
 * @param mergedSecretPages         secret pages mapped to a KSM page with at least one other sharer
 * @param staleSecretPages          free guest pages, still on the host, that hold old secret data now
 * @param staleSecretPageSeconds    the integral of staleSecretPages over simulated time (data remanence)
 * @param ksmdCpuPercent            ksmd's share of one CPU over the last step (calibrated cost per page)
 * @param pageSizeBytes             the simulated page size
 * @param vms                       memory given back to the host per VM, by source
 */
public record Exposure(
        Instant sampledAt,
        Duration elapsed,
        long crossVmMergedNonZeroPages,
        long mergedSecretPages,
        long staleSecretPages,
        double staleSecretPageSeconds,
        double ksmdCpuPercent,
        long pageSizeBytes,
        List<VmReclaim> vms) {

    public Exposure {
        vms = List.copyOf(vms);
    }

    /**
     * Memory one VM gives back, by source; the dashboard stacks the three.
     *
     * @param sharingBytes           saved by sharing non-zero (and, with use_zero_pages=0, zero) KSM pages:
     *                               the VM's live merged pages times the host's (sharers - KSM pages) / sharers
     * @param zeroPageBytes          guest pages KSM mapped to the kernel's zero page (ksm_zero_pages)
     * @param freePageReportingBytes pages the guest reported free and the host discarded
     */
    public record VmReclaim(
            String name, String uuid, long sharingBytes, long zeroPageBytes, long freePageReportingBytes) {
        public long totalBytes() {
            return sharingBytes + zeroPageBytes + freePageReportingBytes;
        }
    }

    /** All VMs' reclaimed memory together. */
    public long reclaimedBytes() {
        return vms.stream().mapToLong(VmReclaim::totalBytes).sum();
    }
}
