package org.memhygiene.core.host;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.probe.DedupProbeReport;
import org.memhygiene.core.probe.DedupProbeRequest;

/**
 * The seam between the daemon and the commands (loop, API, metrics, history, VM commands, posture) and the
 * host they run on: the real Linux host (sysfs + libvirt + agents, the controller's LinuxHost) or the
 * simulator's SimulatedHost. Neither side knows which. Its errors are part of the contract, the same on
 * every backend: each call throws only the {@link HostBackendException} kinds it names (one contract test
 * suite, HostBackendContract, holds every implementation to it). A VM is named by its name or its UUID.
 */
public interface HostBackend extends AutoCloseable {
    /**
     * A fresh snapshot of the host and every VM. Each source (KSM, host memory, the VMs, each agent) is
     * sampled on its own; one that fails is marked down in {@link HostSnapshot#sources()} with its last
     * figures kept, stale, and does not fail the snapshot.
     */
    HostSnapshot snapshot();

    /**
     * Applies KSM knobs all or nothing; returns what changed (before and after of each knob).
     *
     * @throws HostRefusedException       when the kernel (or its rules: merge_across_nodes while pages are
     *                                    shared) refuses a value, or this process may not write the knobs
     * @throws HostNotAvailableException  when this host's KSM is not visible here (no KSM, another machine's)
     *                                    or lacks a knob
     */
    List<KsmChange> applyKsm(KsmSettings settings);

    /**
     * Asks the agent of {@code vm} to scrub up to {@code maxBytes} and waits up to {@code timeout} for its report.
     *
     * @throws NoSuchVmException          when there is no such VM
     * @throws HostNotAvailableException  when the VM has no agent channel or is not running
     * @throws HostUnreachableException   when the agent (or libvirt) fails, times out or misbehaves
     */
    ScrubReport scrub(String vm, long maxBytes, Duration timeout);

    /**
     * The hello of {@code vm}'s agent on a fresh connection: is it there, which version, which protocol.
     *
     * @throws NoSuchVmException          when there is no such VM
     * @throws HostNotAvailableException  when the VM has no agent channel or is not running
     * @throws HostUnreachableException   when the agent (or libvirt) does not answer as it must
     */
    AgentHello ping(String vm);

    /**
     * Runs the deduplication canary across VMs (docs/POSTURE.md, "The deduplication canary") with KSM as it
     * is: plants one nonce's canary in each VM's agent, waits for ksmd's full scans, measures the host's
     * truth and the guests' view, releases every canary. Blocks for the wait (minutes at KSM's default scan
     * rate). A VM that cannot be probed (no agent, a refusal) gets a row saying why; it does not fail the probe.
     *
     * @throws NoSuchVmException         when a VM asked for by name or UUID does not exist
     * @throws HostUnreachableException  when the VMs cannot be listed (libvirt)
     */
    DedupProbeReport probeDedup(DedupProbeRequest request);

    /**
     * What posture needs to know of the host besides KSM: swap, CPU vulnerabilities, NUMA nodes. Read anew on
     * each call (the caller decides how often); empty when the host's /proc and /sys are not visible here
     * (libvirt's host is another machine).
     */
    Optional<HostFacts> facts();

    /**
     * Makes every running VM whose balloon reports no statistics (period 0) report them every
     * {@code period} until it stops; returns the names of the VMs changed.
     *
     * @throws HostUnreachableException when libvirt cannot be reached
     */
    List<String> enableBalloonStats(Duration period);

    /** What this backend is, for logs and the API: the libvirt URI, or the simulator's scenario. */
    String describe();

    @Override
    void close();
}
