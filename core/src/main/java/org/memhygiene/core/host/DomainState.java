package org.memhygiene.core.host;

/** virDomainState, https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainState */
public enum DomainState {
    NO_STATE("no state"),
    RUNNING("running"),
    BLOCKED("blocked"),
    PAUSED("paused"),
    SHUTTING_DOWN("shutting down"),
    SHUT_OFF("shut off"),
    CRASHED("crashed"),
    PM_SUSPENDED("pmsuspended");

    private final String label;

    DomainState(String label) {
        this.label = label;
    }

    /**
     * Whether a QEMU process exists in this state (running, blocked, paused, suspended to RAM, shutting
     * down): only then is there a channel socket to talk to and a /proc/PID/ksm_stat to read.
     */
    public boolean hasQemuProcess() {
        return switch (this) {
            case RUNNING, BLOCKED, PAUSED, PM_SUSPENDED, SHUTTING_DOWN -> true;
            default -> false;
        };
    }

    /** As virsh prints it. */
    public String label() {
        return label;
    }
}
