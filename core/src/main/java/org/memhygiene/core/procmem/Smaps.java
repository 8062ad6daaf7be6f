package org.memhygiene.core.procmem;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses /proc/PID/smaps and /proc/PID/smaps_rollup (Documentation/filesystems/proc.rst). Both walk
 * the process's page tables when read, so their cost grows with its resident memory: read them rarely.
 * Lines other than {@code Name: N kB}, {@code VmFlags:} and headers (THPeligible, ProtectionKey, …)
 * are skipped, so a newer kernel's fields do not break the parser.
 */
public final class Smaps {
    private Smaps() {}

    public static List<SmapsEntry> read(Path procRoot, int pid) {
        Path file = procRoot.resolve(Integer.toString(pid)).resolve("smaps");
        return parse(ProcText.read(file, ProcessMaps.MAX_BYTES * 16), file);
    }

    public static SmapsEntry readRollup(Path procRoot, int pid) {
        Path file = procRoot.resolve(Integer.toString(pid)).resolve("smaps_rollup");
        List<SmapsEntry> blocks = parse(ProcText.read(file, 64 * 1024), file);
        if (blocks.size() != 1) {
            // A process without an address space (a kernel thread, or one exiting) prints nothing.
            throw new ProcMemException(
                    blocks.isEmpty() ? ProcMemException.Kind.GONE : ProcMemException.Kind.MALFORMED,
                    file,
                    blocks.isEmpty()
                            ? "empty: the process has no address space (exited)"
                            : blocks.size() + " blocks, expected 1");
        }
        return blocks.get(0);
    }

    public static List<SmapsEntry> parse(String text, Path source) {
        List<SmapsEntry> entries = new ArrayList<>();
        MemoryMapping mapping = null;
        Map<String, Long> fields = new HashMap<>();
        Set<String> flags = new LinkedHashSet<>();
        int lineNumber = 0;
        for (String line : text.split("\n")) {
            lineNumber++;
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            int space = line.indexOf(' ');
            boolean field = colon > 0 && (space < 0 || colon < space);
            if (!field) {
                if (mapping != null) {
                    entries.add(new SmapsEntry(mapping, Map.copyOf(fields), Set.copyOf(flags)));
                    fields.clear();
                    flags.clear();
                }
                mapping = ProcessMaps.parseLine(line, source, lineNumber);
                continue;
            }
            if (mapping == null) {
                throw new ProcMemException(
                        ProcMemException.Kind.MALFORMED,
                        source,
                        "line " + lineNumber + " comes before any mapping header: " + line);
            }
            String name = line.substring(0, colon);
            String value = line.substring(colon + 1).trim();
            if (name.equals("VmFlags")) {
                for (String flag : value.split("\\s+")) {
                    if (!flag.isEmpty()) {
                        flags.add(flag);
                    }
                }
            } else if (value.endsWith(" kB")) {
                try {
                    fields.put(
                            name,
                            Long.parseLong(value.substring(0, value.length() - 3)
                                            .trim())
                                    * 1024);
                } catch (NumberFormatException e) {
                    throw new ProcMemException(
                            ProcMemException.Kind.MALFORMED,
                            source,
                            "line " + lineNumber + ": '" + name + "' is not a number of kB: " + value);
                }
            }
        }
        if (mapping != null) {
            entries.add(new SmapsEntry(mapping, Map.copyOf(fields), Set.copyOf(flags)));
        }
        return entries;
    }
}
