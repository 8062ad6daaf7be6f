package org.memhygiene.agent.scrub;

/**
 * The two /proc/meminfo lines the scrubber decides by (Documentation/filesystems/proc.rst,
 * "meminfo"). MemAvailable (3.14+) is the kernel's estimate of what can be allocated without swapping:
 * free pages plus the reclaimable part of page cache and slab, less the zone watermarks.
 */
public record MemInfo(long memTotalBytes, long memAvailableBytes) {

    /**
     * Parses the first {@code length} bytes of /proc/meminfo text. Allocation-free on success: the
     * scrubber calls it every few MiB, and garbage there would grow the agent's heap, hence its RSS.
     * {@code source} names the file in errors.
     */
    static MemInfo parse(byte[] text, int length, String source) {
        long total = kibToBytes(text, length, "MemTotal:", source);
        long available = kibToBytes(text, length, "MemAvailable:", source);
        return new MemInfo(total, available);
    }

    private static long kibToBytes(byte[] text, int length, String name, String source) {
        int line = ProcText.lineStarting(text, length, name);
        if (line < 0) {
            throw new IllegalStateException(
                    source + ": expected a \"" + name + " N kB\" line (MemAvailable needs Linux 3.14+)");
        }
        int at = line + name.length();
        while (at < length && text[at] == ' ') {
            at++;
        }
        long kib = 0;
        int digits = 0;
        while (at < length && text[at] >= '0' && text[at] <= '9' && digits < 18) {
            kib = kib * 10 + (text[at++] - '0');
            digits++;
        }
        if (digits == 0 || !ProcText.startsWith(text, length, at, " kB")) {
            throw new IllegalStateException(
                    source + ": expected \"" + name + " N kB\", got \"" + ProcText.lineAt(text, length, line) + "\"");
        }
        return kib * 1024;
    }
}
