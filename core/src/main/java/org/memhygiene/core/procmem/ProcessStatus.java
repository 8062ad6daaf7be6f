package org.memhygiene.core.procmem;

import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Fields of /proc/PID/status (Documentation/filesystems/proc.rst, table 1-2): cheap to read, the kernel
 * prints counters it keeps, with no page-table walk.
 */
public final class ProcessStatus {
    /** CAP_SYS_ADMIN's bit in CapEff (include/uapi/linux/capability.h). */
    static final int CAP_SYS_ADMIN = 21;

    private final String text;
    private final Path file;

    private ProcessStatus(String text, Path file) {
        this.text = text;
        this.file = file;
    }

    public static ProcessStatus read(Path procRoot, String pidOrSelf) {
        Path file = procRoot.resolve(pidOrSelf).resolve("status");
        return new ProcessStatus(ProcText.read(file, 64 * 1024), file);
    }

    /** VmRSS: resident anonymous, file and shmem pages (RssAnon + RssFile + RssShmem); the zero page is not counted. */
    public OptionalLong vmRssBytes() {
        return kilobytes("VmRSS");
    }

    /** Whether CapEff holds CAP_SYS_ADMIN, which pagemap requires to show PFNs. */
    public boolean effectiveCapSysAdmin() {
        String value = field("CapEff");
        if (value == null) {
            throw new ProcMemException(ProcMemException.Kind.MALFORMED, file, "no CapEff line");
        }
        return (Long.parseUnsignedLong(value.strip(), 16) & (1L << CAP_SYS_ADMIN)) != 0;
    }

    private OptionalLong kilobytes(String name) {
        String value = field(name);
        if (value == null) {
            // Kernel threads and exiting processes print no Vm* lines.
            return OptionalLong.empty();
        }
        String number = value.strip();
        if (!number.endsWith(" kB")) {
            throw new ProcMemException(ProcMemException.Kind.MALFORMED, file, name + " is not in kB: " + number);
        }
        return OptionalLong.of(
                Long.parseLong(number.substring(0, number.length() - 3).strip()) * 1024);
    }

    private String field(String name) {
        String prefix = name + ":";
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length());
            }
        }
        return null;
    }
}
