package org.memhygiene.controller.libvirt;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import org.memhygiene.core.host.DomainKsm;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.procmem.ProcMemException;
import org.memhygiene.core.procmem.RereadableFile;

/**
 * Per-domain KSM figures: the domain's QEMU process found by {@link QemuProcessLocator}, its
 * /proc/PID/ksm_stat read as {@link ProcessKsmReader} does. The daemon reads the same processes every
 * second, so each one's ksm_stat stays open and is read again in place, and its name is read once
 * (docs/PERFORMANCE.md, "Controller: the daemon").
 */
public final class DomainKsmReader implements AutoCloseable {
    /** ksm_stat is six short lines. */
    private static final int MAX_KSM_STAT_BYTES = 4096;

    /** A QEMU process's open ksm_stat (empty where this kernel has none: before 6.1) and its name. */
    private record Process(Optional<RereadableFile> ksmStat, String name) {}

    private final QemuProcessLocator locator;
    private final ProcessKsmReader reader;
    private final Path procRoot;
    private final Map<Integer, Process> processes = new ConcurrentHashMap<>();

    public DomainKsmReader(QemuProcessLocator locator, ProcessKsmReader reader) {
        this.locator = locator;
        this.reader = reader;
        this.procRoot = reader.procRoot();
    }

    /** The pid of the domain's QEMU process on this machine, or empty when none runs. */
    public OptionalInt locate(String domainName) {
        return locator.find(domainName);
    }

    /** Whether process {@code pid} still exists (its /proc directory). */
    public boolean running(int pid) {
        return locator.running(pid);
    }

    /** Empty when the domain has no QEMU process here or its kernel reports no per-process KSM figures. */
    public Optional<DomainKsm> read(String domainName) {
        OptionalInt pid = locate(domainName);
        return pid.isEmpty() ? Optional.empty() : read(domainName, pid.getAsInt());
    }

    /**
     * The ksm_stat of {@code pid}, the domain's QEMU process; empty when the kernel reports none, or the
     * process exited (then its open file is closed).
     */
    public Optional<DomainKsm> read(String domainName, int pid) {
        Process process = processes.computeIfAbsent(pid, this::open);
        if (process.ksmStat().isEmpty()) {
            // A kernel without ksm_stat (5.19-6.0: ksm_merging_pages only): the reader's way.
            return reader.read(pid, process.name()).map(stat -> new DomainKsm(domainName, pid, stat));
        }
        try {
            String text = process.ksmStat().get().read();
            if (!text.isEmpty()) {
                ProcessKsmStat stat = ProcessKsmReader.parseKsmStat(pid, text).withName(process.name());
                return Optional.of(new DomainKsm(domainName, pid, stat));
            }
        } catch (ProcMemException e) {
            // The process exited (ESRCH), or its file can no longer be read: as if it had none.
        }
        forget(pid);
        return Optional.empty();
    }

    private Process open(int pid) {
        Path dir = procRoot.resolve(Integer.toString(pid));
        Optional<RereadableFile> file;
        try {
            file = Optional.of(RereadableFile.open(dir.resolve("ksm_stat"), MAX_KSM_STAT_BYTES));
        } catch (ProcMemException e) {
            file = Optional.empty();
        }
        return new Process(file, reader.nameOf(pid));
    }

    /** Closes what is kept open for {@code pid}: its process is not a domain's QEMU any more (or exited). */
    public void forget(int pid) {
        Process process = processes.remove(pid);
        if (process != null) {
            process.ksmStat().ifPresent(RereadableFile::close);
        }
    }

    @Override
    public void close() {
        processes.keySet().forEach(this::forget);
    }
}
