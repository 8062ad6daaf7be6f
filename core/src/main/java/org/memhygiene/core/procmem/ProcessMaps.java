package org.memhygiene.core.procmem;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses /proc/PID/maps (Documentation/filesystems/proc.rst; the format is {@code show_vma_header_prefix()}
 * in fs/proc/task_mmu.c: {@code start-end perms offset major:minor inode}, padding, then the name).
 * Bounded: at most {@value #MAX_MAPPINGS} mappings and {@value #MAX_BYTES} bytes, so a process with an
 * absurd number of mappings costs an error, not the reader's memory. Names are kept as printed, spaces
 * and all.
 */
public final class ProcessMaps {
    /** Four times vm.max_map_count's default (65530). */
    public static final int MAX_MAPPINGS = 262_144;

    public static final int MAX_BYTES = 64 * 1024 * 1024;

    private ProcessMaps() {}

    /** /proc/PID/maps of {@code pid} under {@code procRoot}. */
    public static List<MemoryMapping> read(Path procRoot, int pid) {
        Path file = procRoot.resolve(Integer.toString(pid)).resolve("maps");
        return parse(ProcText.read(file, MAX_BYTES), file);
    }

    /** Parses the text of a maps file; {@code source} names it in errors. */
    public static List<MemoryMapping> parse(String text, Path source) {
        List<MemoryMapping> mappings = new ArrayList<>();
        int lineNumber = 0;
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            lineNumber++;
            if (end > start) {
                if (mappings.size() == MAX_MAPPINGS) {
                    throw new ProcMemException(
                            ProcMemException.Kind.MALFORMED, source, "more than " + MAX_MAPPINGS + " mappings");
                }
                mappings.add(parseLine(text.substring(start, end), source, lineNumber));
            }
            start = end + 1;
        }
        return mappings;
    }

    /** One header line, as in maps and as the first line of each smaps block. */
    static MemoryMapping parseLine(String line, Path source, int lineNumber) {
        try {
            int dash = line.indexOf('-');
            int[] fieldEnds = new int[5];
            int position = 0;
            for (int field = 0; field < 5; field++) {
                int space = line.indexOf(' ', position);
                if (space < 0) {
                    if (field < 4) {
                        throw new IllegalArgumentException("fewer than 5 fields");
                    }
                    space = line.length();
                }
                fieldEnds[field] = space;
                position = space + 1;
            }
            if (dash < 0 || dash > fieldEnds[0]) {
                throw new IllegalArgumentException("no start-end range");
            }
            long startAddress = Long.parseUnsignedLong(line.substring(0, dash), 16);
            long endAddress = Long.parseUnsignedLong(line.substring(dash + 1, fieldEnds[0]), 16);
            String permissions = line.substring(fieldEnds[0] + 1, fieldEnds[1]);
            if (permissions.length() != 4 || Long.compareUnsigned(endAddress, startAddress) < 0) {
                throw new IllegalArgumentException("permissions or range out of shape");
            }
            long offset = Long.parseUnsignedLong(line.substring(fieldEnds[1] + 1, fieldEnds[2]), 16);
            String device = line.substring(fieldEnds[2] + 1, fieldEnds[3]);
            long inode = Long.parseLong(line.substring(fieldEnds[3] + 1, fieldEnds[4]));
            // The name starts after the padding; it may itself contain spaces.
            int name = Math.min(fieldEnds[4] + 1, line.length());
            while (name < line.length() && line.charAt(name) == ' ') {
                name++;
            }
            return new MemoryMapping(
                    startAddress, endAddress, permissions, offset, device, inode, line.substring(name));
        } catch (RuntimeException e) {
            throw new ProcMemException(
                    ProcMemException.Kind.MALFORMED,
                    source,
                    "line " + lineNumber + " is not 'start-end perms offset dev inode [name]' (" + e.getMessage()
                            + "): " + abbreviate(line));
        }
    }

    private static String abbreviate(String line) {
        return line.length() <= 200 ? line : line.substring(0, 200) + "…";
    }
}
