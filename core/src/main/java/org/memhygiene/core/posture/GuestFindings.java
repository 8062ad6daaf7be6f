package org.memhygiene.core.posture;

/**
 * Every guest finding (docs/POSTURE.md, "Guest findings"), its id, severity, title and remediation in one
 * place: the agent's PostureProbe reports them from the guest's files, the simulator from a scenario; each
 * passes the evidence it has (the file and value it read, or what the scenario says).
 */
public final class GuestFindings {
    /** Every guest finding's id starts with this; the host accepts no other from a guest. */
    public static final String ID_PREFIX = "guest.";
    /** The id of {@link #initOnFreeOn}: the host's reclaim boost reads it (a guest kernel that zeroes on free). */
    public static final String INIT_ON_FREE_ON = "guest.init_on_free.on";

    private GuestFindings() {}

    public static Finding kernelVersion(String release, String evidence) {
        return new Finding("guest.kernel.version", Severity.INFO, "Guest kernel " + release, evidence, "None.");
    }

    /** init_on_free=1: Documentation/admin-guide/kernel-parameters.txt, mm/page_alloc.c. */
    public static Finding initOnFreeOn(String evidence) {
        return new Finding(
                INIT_ON_FREE_ON,
                Severity.INFO,
                "The kernel zeroes every page it frees",
                evidence,
                "None: freed memory holds no stale data; the agent does not need to scrub.");
    }

    public static Finding initOnFreeOff(String evidence) {
        return new Finding(
                "guest.init_on_free.off",
                Severity.MEDIUM,
                "Freed memory keeps its old contents until reused",
                evidence,
                "Boot the guest with init_on_free=1 (costs a few percent CPU), or let the memhygiene agent"
                        + " scrub free memory periodically.");
    }

    public static Finding initOnAllocOff(String evidence) {
        return new Finding(
                "guest.init_on_alloc.off",
                Severity.LOW,
                "Newly allocated kernel memory is not zeroed",
                evidence,
                "Boot with init_on_alloc=1 so uninitialised kernel allocations cannot leak old data.");
    }

    /** Swapped-out pages outlive the process on disk unless the device is encrypted or in RAM. */
    public static Finding swapUnencrypted(String device, String evidence) {
        return new Finding(
                "guest.swap.unencrypted",
                Severity.HIGH,
                "Swap on " + device + " is not encrypted",
                evidence,
                "Encrypt swap (dm-crypt with a random key per boot, crypttab 'swap' option), use zram, or turn swap off.");
    }

    public static Finding swapProtected(String device, SwapDevice.Kind kind, String evidence) {
        return new Finding(
                "guest.swap.protected", Severity.INFO, "Swap on " + device + " is " + kind.label(), evidence, "None.");
    }

    public static Finding swapNone(String evidence) {
        return new Finding("guest.swap.none", Severity.INFO, "No swap", evidence, "None.");
    }

    public static Finding zswapOn(String evidence) {
        return new Finding(
                "guest.zswap.on",
                Severity.INFO,
                "zswap compresses pages in RAM before they reach the swap device",
                evidence,
                "None.");
    }

    /** Hibernation writes all of RAM to disk (Documentation/power/swsusp.rst). */
    public static Finding hibernationAvailable(String evidence) {
        return new Finding(
                "guest.hibernation.available",
                Severity.MEDIUM,
                "Hibernation can write all of memory to disk",
                evidence,
                "Boot with nohibernate, or make sure the resume device is encrypted.");
    }

    /** Core dumps copy a process's memory to disk (core(5)). */
    public static Finding coreDumpsEnabled(boolean bySystemdCoredump, String evidence) {
        return new Finding(
                "guest.coredump.enabled",
                Severity.LOW,
                bySystemdCoredump ? "Core dumps are kept by systemd-coredump" : "Core dumps are written",
                evidence,
                "Set kernel.core_pattern=|/bin/false (or Storage=none in coredump.conf) on hosts whose processes hold secrets.");
    }

    /** fs.suid_dumpable (Documentation/admin-guide/sysctl/fs.rst): 1 is worse than 2. */
    public static Finding coreDumpsOfSetuid(String suidDumpable, String evidence) {
        return new Finding(
                "guest.coredump.suid",
                suidDumpable.equals("1") ? Severity.HIGH : Severity.MEDIUM,
                "Privileged (setuid) processes can dump core",
                evidence,
                "Set fs.suid_dumpable=0.");
    }

    /** memfd_secret(2): Linux 5.14+, CONFIG_SECRETMEM. */
    public static Finding memfdSecretUnavailable(String evidence) {
        return new Finding(
                "guest.memfd_secret.unavailable",
                Severity.LOW,
                "memfd_secret is not available for secret memory",
                evidence,
                "Use a 5.14+ kernel with CONFIG_SECRETMEM=y; until then SecretMemory falls back to mlock.");
    }

    public static Finding balloonAbsent(String evidence) {
        return new Finding(
                "guest.balloon.absent",
                Severity.INFO,
                "No virtio balloon driver",
                evidence,
                "Give the VM <memballoon model='virtio'> to report memory statistics.");
    }

    /** Free page reporting (virtio-balloon, Linux 5.7+) hands free memory back to the host without KSM. */
    public static Finding freePageReportingOn(String evidence) {
        return new Finding(
                "guest.free_page_reporting.on",
                Severity.INFO,
                "Free page reporting can hand free memory to the host",
                evidence,
                "None.");
    }

    public static Finding freePageReportingOff(String evidence) {
        return new Finding(
                "guest.free_page_reporting.off",
                Severity.INFO,
                "Free page reporting is off",
                evidence,
                "Set freePageReporting='on' on the VM's memballoon (libvirt 6.9+).");
    }
}
