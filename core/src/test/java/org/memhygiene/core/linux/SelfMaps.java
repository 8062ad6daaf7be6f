package org.memhygiene.core.linux;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The test process's own memory as the kernel reports it (/proc/self/status and /proc/self/smaps,
 * Documentation/filesystems/proc.rst), for tests in every module (core's test jar).
 */
public final class SelfMaps {
    private SelfMaps() {}

    public static long statusKib(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(
                        line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }

    /**
     * The lines of the /proc/self/smaps block for the mapping that holds {@code address}. The kernel
     * merges a new mapping with a neighbour of the same flags, so tests that read a mapping's own
     * figures use a mapping fenced by PROT_NONE pages.
     */
    public static List<String> smapsBlock(Pointer address) throws IOException {
        long wanted = Pointer.nativeValue(address);
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        for (int i = 0; i < lines.size(); i++) {
            if (isRangeLine(lines.get(i)) && holds(lines.get(i), wanted)) {
                int end = i + 1;
                while (end < lines.size() && !isRangeLine(lines.get(end))) {
                    end++;
                }
                return lines.subList(i, end);
            }
        }
        throw new IllegalStateException("no mapping holds " + address + " in /proc/self/smaps");
    }

    private static boolean isRangeLine(String line) {
        return line.matches("^[0-9a-f]+-[0-9a-f]+ .*");
    }

    private static boolean holds(String rangeLine, long address) {
        String[] range = rangeLine.substring(0, rangeLine.indexOf(' ')).split("-");
        return Long.parseUnsignedLong(range[0], 16) <= address && address < Long.parseUnsignedLong(range[1], 16);
    }

    public static long smapsField(Pointer address, String field) throws IOException {
        for (String line : smapsBlock(address)) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(
                        line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IllegalStateException("no " + field + " for " + address);
    }

    public static List<String> vmFlags(Pointer address) throws IOException {
        for (String line : smapsBlock(address)) {
            if (line.startsWith("VmFlags:")) {
                return List.of(line.substring("VmFlags:".length()).trim().split("\\s+"));
            }
        }
        throw new IllegalStateException("no VmFlags for " + address);
    }

    public static String mapsPermissions(Pointer address) throws IOException {
        return smapsBlock(address).get(0).split(" ")[1];
    }
}
