package org.memhygiene.core.procmem;

import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * One block of /proc/PID/smaps, or the single block of /proc/PID/smaps_rollup (whose header names the
 * pseudo-mapping {@code [rollup]} spanning the whole address space), as in
 * Documentation/filesystems/proc.rst, "/proc/PID/smaps".
 *
 * @param mapping    the header line
 * @param sizeFields every {@code Name: N kB} line, in bytes (Rss, Pss, Anonymous, AnonHugePages, Swap, …)
 * @param vmFlags    the two-letter VmFlags (smaps only; empty for smaps_rollup): e.g. {@code mg} mergeable
 *                   (MADV_MERGEABLE), {@code hg} MADV_HUGEPAGE, {@code ht} hugetlbfs, {@code dc} MADV_DONTFORK
 */
public record SmapsEntry(MemoryMapping mapping, Map<String, Long> sizeFields, Set<String> vmFlags) {

    /** A {@code Name: N kB} field in bytes; empty when this kernel does not print it. */
    public OptionalLong bytes(String field) {
        Long value = sizeFields.get(field);
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /** Resident memory this mapping (or process) accounts: pages of the zero page are not in it. */
    public OptionalLong rssBytes() {
        return bytes("Rss");
    }

    public OptionalLong swapBytes() {
        return bytes("Swap");
    }

    /** Anonymous memory mapped by PMD-sized transparent huge pages. */
    public OptionalLong anonHugePagesBytes() {
        return bytes("AnonHugePages");
    }
}
