package org.memhygiene.controller.host;

import java.nio.file.Path;
import java.util.Optional;
import org.memhygiene.controller.guestmemory.GuestMemoryMethod;
import org.memhygiene.controller.guestmemory.PassBudget;

/**
 * How a {@link LinuxHost} measures its VMs' guest RAM (docs/RECLAIM.md): the daemon's {@code guest_memory}
 * keys, or a command's.
 *
 * @param method     how, or empty for not at all ({@code method: off})
 * @param budget     the work per sample
 * @param qemuPidDir where libvirt keeps the QEMU processes' pid files, when not where the URI's driver
 *                   keeps them ({@code QemuProcessLocator.pidDirFor}); also how a test-driver host is given
 *                   processes to measure
 */
public record GuestMemorySettings(Optional<GuestMemoryMethod> method, PassBudget budget, Optional<Path> qemuPidDir) {
    /** The daemon's default: the best method, {@link PassBudget#DEFAULT}. */
    public static final GuestMemorySettings DAEMON =
            new GuestMemorySettings(Optional.of(GuestMemoryMethod.AUTO), PassBudget.DEFAULT, Optional.empty());
    /** A command that prints once (`vms`, `vm show`): a whole pass of every VM in its one sample. */
    public static final GuestMemorySettings ONE_SHOT =
            new GuestMemorySettings(Optional.of(GuestMemoryMethod.AUTO), PassBudget.wholePass(), Optional.empty());

    public GuestMemorySettings withQemuPidDir(Optional<Path> pidDir) {
        return new GuestMemorySettings(method, budget, pidDir);
    }
}
