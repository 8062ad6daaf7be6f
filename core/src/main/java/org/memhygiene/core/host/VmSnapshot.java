package org.memhygiene.core.host;

import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.agent.AgentSample;

/**
 * One VM in a host sample: what libvirt says of it, its configuration, what KSM does for its QEMU
 * process, what its agent reported, and its guest RAM page by page.
 *
 * @param domain      the libvirt figures (state, vCPUs, memory, balloon statistics)
 * @param config      the parsed domain XML (live XML of a running domain); empty when it could not be read
 * @param ksm         /proc/PID/ksm_stat of the domain's QEMU process: what KSM accounts to it; empty when
 *                    it is not running or the process was not found
 * @param agent       the agent link's sample
 * @param guestMemory the latest completed measurement of its guest RAM (docs/RECLAIM.md), with how it was
 *                    measured and when; empty when it is not running, its process was not found, or its
 *                    first pass has not completed yet
 */
public record VmSnapshot(
        DomainSample domain,
        Optional<DomainXml> config,
        Optional<DomainKsm> ksm,
        AgentSample agent,
        Optional<GuestMemory> guestMemory) {

    /** A VM whose guest RAM is not measured. */
    public VmSnapshot(DomainSample domain, Optional<DomainXml> config, Optional<DomainKsm> ksm, AgentSample agent) {
        this(domain, config, ksm, agent, Optional.empty());
    }

    /** The same VM with {@code measured} as its guest memory. */
    public VmSnapshot withGuestMemory(Optional<GuestMemory> measured) {
        return new VmSnapshot(domain, config, ksm, agent, measured);
    }

    /**
     * Guest RAM the host got back from this VM (docs/RECLAIM.md: zero-mapped after it held data plus given back, the drop of
     * its QEMU process's RSS), as {@link #guestMemory} measured it; empty when it is not measured.
     */
    public OptionalLong reclaimedBytes() {
        return guestMemory.map(GuestMemory::reclaimedBytes).orElse(OptionalLong.empty());
    }

    /**
     * KSM-accounted: guest memory KSM backs with shared or zero pages, (ksm_merging_pages + ksm_zero_pages)
     * × page size from ksm_stat; misses the zero pages of split THPs ({@link #reclaimedBytes} has them).
     */
    public OptionalLong ksmSavedBytes(long pageSizeBytes) {
        return ksm.map(k -> OptionalLong.of(k.stat().savedPages() * pageSizeBytes))
                .orElse(OptionalLong.empty());
    }

    /** KSM-accounted: guest memory KSM merged with the kernel's zero page, ksm_zero_pages × page size. */
    public OptionalLong zeroPageBytes(long pageSizeBytes) {
        return ksm.flatMap(k -> k.stat().zeroPages().isPresent()
                        ? Optional.of(k.stat().zeroPages().getAsLong() * pageSizeBytes)
                        : Optional.empty())
                .map(OptionalLong::of)
                .orElse(OptionalLong.empty());
    }

    /**
     * Guest memory mapped to the kernel's zero page, the figure the reclaim boost watches grow after a
     * scrub (docs/POLICY.md, "Reclaim boost"). For now it is ksm_stat's ksm_zero_pages × page size,
     * which counts only the pages ksmd merged with the zero page: zero subpages of split THPs are
     * remapped to it without being counted (docs/RESULTS.md), so on THP-backed guests it grows less than
     * the memory returned. The integrator switches it to the per-VM pagemap classification (pages mapped
     * to the zero page, counted page by page) when that joins the snapshot; callers do not change.
     */
    public OptionalLong zeroMappedBytes(long pageSizeBytes) {
        return zeroPageBytes(pageSizeBytes);
    }

    /**
     * Zero-page merged memory as a percentage of what the guest reports unused (balloon statistics):
     * near 100 when the guest's free memory is zeroed and KSM has caught up with it; empty when either
     * figure is missing.
     */
    public OptionalLong zeroPagesPercentOfUnused(long pageSizeBytes) {
        OptionalLong zero = zeroPageBytes(pageSizeBytes);
        OptionalLong unused = domain.balloonStats().unusedBytes();
        if (zero.isEmpty() || unused.isEmpty() || unused.getAsLong() <= 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Math.round(100.0 * zero.getAsLong() / unused.getAsLong()));
    }

    /** Whether KSM may merge this guest's memory at all: no {@code <nosharepages/>} and no huge pages. */
    public Optional<Boolean> sharingAllowed() {
        return config.map(
                c -> !c.memoryBacking().noSharePages() && !c.memoryBacking().hugepages());
    }
}
