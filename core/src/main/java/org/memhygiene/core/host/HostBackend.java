package org.memhygiene.core.host;

import java.time.Duration;
import java.util.List;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.agent.AgentLinkException;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmSettings;

/**
 * The seam between the daemon (loop, API, metrics, history) and the host it runs on: the real Linux
 * host (sysfs + libvirt + agents, the controller's LinuxHost) or the simulator's SimulatedHost. Neither side knows which.
 */
public interface HostBackend extends AutoCloseable {
    /** A fresh snapshot of the host and every VM. */
    HostSnapshot snapshot();

    /** Applies KSM knobs all or nothing; returns what changed (before and after of each knob). */
    List<KsmChange> applyKsm(KsmSettings settings);

    /**
     * Asks the agent of the VM with {@code vmUuid} to scrub up to {@code maxBytes} and waits up to
     * {@code timeout} for its report.
     *
     * @throws IllegalArgumentException when there is no such VM, or it has no agent channel or is not running
     * @throws AgentLinkException       when the agent fails, times out or misbehaves
     */
    ScrubReport scrub(String vmUuid, long maxBytes, Duration timeout) throws AgentLinkException;

    /**
     * Whether the host this backend samples is the machine this code runs on, so that host-wide files
     * (/proc/swaps, /sys/devices/system/cpu/vulnerabilities) describe it and posture may read them. The
     * simulator and a remote libvirt host are not.
     */
    default boolean isThisMachine() {
        return false;
    }

    /** What this backend is, for logs and the API: the libvirt URI, or the simulator's scenario. */
    String describe();

    @Override
    void close();
}
