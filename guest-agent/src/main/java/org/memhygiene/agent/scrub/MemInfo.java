package org.memhygiene.agent.scrub;

/**
 * The three /proc/meminfo lines the scrubber decides by (Documentation/filesystems/proc.rst,
 * "meminfo"). MemAvailable (3.14+) is the kernel's estimate of what can be allocated without swapping,
 * free pages plus the reclaimable part of page cache and slab, less the zone watermarks.
 */
record MemInfo(long memTotalBytes, long memFreeBytes, long memAvailableBytes) {

    /** Parses the text of /proc/meminfo; {@code source} names the file in errors. */
    static MemInfo parse(String text, String source) {
        long total = -1;
        long free = -1;
        long available = -1;
        for (String line : text.split("\n")) {
            if (line.startsWith("MemTotal:")) {
                total = kibToBytes(line, source);
            } else if (line.startsWith("MemFree:")) {
                free = kibToBytes(line, source);
            } else if (line.startsWith("MemAvailable:")) {
                available = kibToBytes(line, source);
            }
        }
        if (total < 0 || free < 0 || available < 0) {
            throw new IllegalStateException(source + ": expected MemTotal, MemFree and MemAvailable lines (Linux 3.14+),"
                    + " found" + (total < 0 ? " no MemTotal" : "") + (free < 0 ? " no MemFree" : "")
                    + (available < 0 ? " no MemAvailable" : ""));
        }
        return new MemInfo(total, free, available);
    }

    private static long kibToBytes(String line, String source) {
        String value = line.substring(line.indexOf(':') + 1).trim();
        if (!value.endsWith(" kB")) {
            throw new IllegalStateException(source + ": expected \"NAME: N kB\", got \"" + line + "\"");
        }
        try {
            return Math.multiplyExact(Long.parseLong(value.substring(0, value.length() - 3).trim()), 1024L);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalStateException(source + ": expected a kB count, got \"" + line + "\"", e);
        }
    }
}
