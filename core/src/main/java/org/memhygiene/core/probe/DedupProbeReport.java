package org.memhygiene.core.probe;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a deduplication probe measured (docs/POSTURE.md, "The deduplication canary"; the document of
 * {@code memhygiene probe dedup --json} and {@code GET /api/v1/probes/dedup}): per VM the host's truth (its
 * canary pages found in its guest RAM, which of them share a KSM frame with another VM's) and the guest's view
 * (its canary writes against its control writes, a rank test), per pair of VMs the canary pages merged between
 * them.
 *
 * @param nonce          the probe's nonce (hex), the same in every VM of the probe
 * @param pages          canary pages planted per VM (and as many control pages)
 * @param pageSizeBytes  the host's page size
 * @param startedAt      when the canaries were planted
 * @param measuredAt     when the host's truth was read and the guests timed their writes
 * @param ksm            KSM as the probe found it: the probe changes no knob
 * @param hostTruthMethod how the host's truth was read: {@code pagemap+kpageflags} (frames compared),
 *                       {@code pagemap-exclusive} (without CAP_SYS_ADMIN: a page not exclusive to the VM, the
 *                       frame inferred) or {@code none: …} (why it could not be read: another machine's VMs)
 * @param vms            one row per VM asked for, in the order asked
 * @param pairs          one row per pair of probed VMs: canary pages merged between them
 */
public record DedupProbeReport(
        String nonce,
        int pages,
        long pageSizeBytes,
        Instant startedAt,
        Instant measuredAt,
        KsmAtProbe ksm,
        String hostTruthMethod,
        List<VmProbe> vms,
        List<PairProbe> pairs) {
    public DedupProbeReport {
        vms = List.copyOf(vms);
        pairs = List.copyOf(pairs);
    }

    public Optional<VmProbe> vm(String nameOrUuid) {
        return vms.stream()
                .filter(v -> v.name().equals(nameOrUuid) || v.uuid().equalsIgnoreCase(nameOrUuid))
                .findFirst();
    }

    /**
     * KSM during the probe.
     *
     * @param run                the run knob (0 stopped, 1 merging, 2 unmerging; -1 when not readable here)
     * @param smartScan          whether ksmd skips pages that keep failing to merge (then a canary page planted
     *                           on a guest page that aged unmerged may take many full scans to merge, or not
     *                           merge within the wait: the probe measures that too, as an attacker would meet
     *                           it); null when unknown
     * @param useZeroPages       whether empty pages merge with the kernel's zero page (then a guest can tell a
     *                           page was zero by timing a write to it, nothing more); null when unknown
     * @param mergeAcrossNodes   whether pages merge across NUMA nodes; null when unknown
     * @param fullScansWaited    full scans ksmd completed between planting and measuring
     * @param fullScansWanted    full scans the probe waited for
     * @param waited             how the wait ended: "3 full scans", "KSM does not run (run=0): nothing merges",
     *                           "deadline of 15m: 1 of 3 full scans"
     */
    public record KsmAtProbe(
            int run,
            Boolean smartScan,
            Boolean useZeroPages,
            Boolean mergeAcrossNodes,
            long fullScansWaited,
            int fullScansWanted,
            String waited) {}

    /**
     * One VM's result.
     *
     * @param outcome  whether the VM was probed, and if not why (its row's {@code detail} says more)
     * @param detail   what happened, in words: the refusal's message, a contradiction between host and guest
     * @param host     the host's truth, where it could be read
     * @param guest    the guest's view, where its agent timed its writes and the timings were consistent
     * @param verdict  observed: this VM's canary was merged with another VM's (the host's truth decides; the
     *                 guest's view where the host cannot see); not observed; unknown (not probed)
     */
    public record VmProbe(
            String name,
            String uuid,
            Outcome outcome,
            String detail,
            Optional<HostTruth> host,
            Optional<GuestView> guest,
            Verdict verdict) {}

    /**
     * @param canaryPagesFound         canary pages found by their contents in the VM's guest RAM
     * @param canaryPagesKsm           of those, pages backed by a KSM frame
     * @param canaryPagesMergedAcrossVms of those, pages whose frame backs another probed VM's canary page
     */
    public record HostTruth(int canaryPagesFound, int canaryPagesKsm, int canaryPagesMergedAcrossVms) {}

    /**
     * The guest's writes: its canary pages against its control pages.
     *
     * @param observed the rank test is significant (p below {@link RankTest#ALPHA}): canary writes are slower
     */
    public record GuestView(
            long canaryMedianNanos,
            long controlMedianNanos,
            long canaryP90Nanos,
            long controlP90Nanos,
            double u,
            double z,
            double pValue,
            boolean observed) {}

    public record PairProbe(String vmA, String vmB, int mergedPages) {}

    public enum Outcome {
        /** Planted, measured, released. */
        PROBED,
        /** The VM has no agent channel, is not running, or its agent does not answer. */
        NO_AGENT,
        /** The agent refused the canary (its headroom, memory pressure, mlock, another probe's canary). */
        REFUSED,
        /** The agent's answers were not what it planted (timings of other pages, a wrong count): not used. */
        INCONSISTENT,
        /** The VM does not exist. */
        NO_SUCH_VM;

        /** The documented label: {@code probed}, {@code no_agent}, … */
        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Verdict {
        OBSERVED,
        NOT_OBSERVED,
        UNKNOWN;

        /** The documented label: {@code observed}, {@code not_observed}, … */
        @JsonValue
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
