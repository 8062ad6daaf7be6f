package org.memhygiene.core.ksm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.host.HostNotAvailableException;
import org.memhygiene.core.linux.Errno;

/**
 * Per-process KSM figures from /proc/PID/ksm_stat (Linux 6.1+) or /proc/PID/ksm_merging_pages
 * (5.19+), see https://docs.kernel.org/admin-guide/mm/ksm.html#monitoring-ksm-profit. The /proc root
 * is a constructor argument so tests can use a tree of their own.
 */
public final class ProcessKsmReader {
    public static final Path DEFAULT_ROOT = Path.of("/proc");

    private final Path procRoot;

    public ProcessKsmReader(Path procRoot) {
        this.procRoot = procRoot;
    }

    /** One process, or empty when it is gone or its kernel reports no KSM figures. */
    public Optional<ProcessKsmStat> read(int pid) {
        return readStat(pid).map(stat -> stat.withName(name(pid)));
    }

    /**
     * The figures of {@code pid}, whose name the caller already knows: one file read instead of two, for a
     * caller that reads the same processes every sample (the daemon, its VMs' QEMU processes).
     */
    public Optional<ProcessKsmStat> read(int pid, String knownName) {
        return readStat(pid).map(stat -> stat.withName(knownName));
    }

    public Path procRoot() {
        return procRoot;
    }

    /** The process's name (/proc/PID/comm); "?" when it is gone. */
    public String nameOf(int pid) {
        return name(pid);
    }

    /**
     * The processes KSM tracks, most saved pages first, and how many processes' figures this user may not
     * read: /proc/PID/ksm_stat and ksm_merging_pages are readable by the process's owner and root only
     * (fs/proc/base.c, S_IRUSR), so a user's view misses other users' processes, QEMU's among them.
     */
    public record Top(List<ProcessKsmStat> processes, int unreadableProcesses) {}

    /**
     * The processes KSM tracks (any rmap_items or merged pages), most saved pages first. Names are read
     * only for the rows returned, which keeps a scan of every process cheap.
     */
    public Top top(int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive, was " + limit);
        }
        List<ProcessKsmStat> tracked = new ArrayList<>();
        int unreadable = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(procRoot, ProcessKsmReader::isPid)) {
            for (Path entry : entries) {
                try {
                    readStatOrDenied(Integer.parseInt(entry.getFileName().toString()))
                            .filter(s -> s.rmapItems().orElse(0) > 0 || s.savedPages() > 0)
                            .ifPresent(tracked::add);
                } catch (AccessDeniedException e) {
                    unreadable++;
                }
            }
        } catch (IOException e) {
            throw new HostNotAvailableException("cannot list " + procRoot + ": " + Errno.describe(e), e);
        }
        tracked.sort(
                Comparator.comparingLong(ProcessKsmStat::savedPages).reversed().thenComparingInt(ProcessKsmStat::pid));
        return new Top(
                tracked.stream()
                        .limit(limit)
                        .map(s -> s.withName(name(s.pid())))
                        .toList(),
                unreadable);
    }

    private static boolean isPid(Path entry) {
        String name = entry.getFileName().toString();
        if (name.isEmpty() || name.length() > 10) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private Optional<ProcessKsmStat> readStat(int pid) {
        try {
            return readStatOrDenied(pid);
        } catch (AccessDeniedException e) {
            return Optional.empty();
        }
    }

    private Optional<ProcessKsmStat> readStatOrDenied(int pid) throws AccessDeniedException {
        Path dir = procRoot.resolve(Integer.toString(pid));
        Optional<String> stat = readIfPresent(dir.resolve("ksm_stat"));
        if (stat.isPresent()) {
            return Optional.of(parseKsmStat(pid, stat.get()));
        }
        return readIfPresent(dir.resolve("ksm_merging_pages"))
                .map(text -> parseLong(text.strip()))
                .map(merging -> new ProcessKsmStat(
                        pid,
                        "",
                        OptionalLong.empty(),
                        OptionalLong.empty(),
                        merging,
                        OptionalLong.empty(),
                        Optional.empty(),
                        Optional.empty()));
    }

    /**
     * Parses ksm_stat: "ksm_rmap_items 12", ..., "ksm_merge_any: no", "ksm_mergeable: yes" (the two
     * yes/no lines carry a colon, see fs/proc/base.c proc_pid_ksm_stat). Unknown lines are ignored.
     */
    public static ProcessKsmStat parseKsmStat(int pid, String text) {
        OptionalLong rmapItems = OptionalLong.empty();
        OptionalLong zeroPages = OptionalLong.empty();
        OptionalLong mergingPages = OptionalLong.empty();
        OptionalLong profit = OptionalLong.empty();
        Optional<Boolean> mergeAny = Optional.empty();
        Optional<Boolean> mergeable = Optional.empty();
        for (String line : text.split("\n")) {
            int space = line.indexOf(' ');
            if (space <= 0) {
                continue;
            }
            String key = line.substring(0, space).replace(":", "");
            String value = line.substring(space + 1).strip();
            switch (key) {
                case "ksm_rmap_items" -> rmapItems = parseLong(value);
                case "ksm_zero_pages" -> zeroPages = parseLong(value);
                case "ksm_merging_pages" -> mergingPages = parseLong(value);
                case "ksm_process_profit" -> profit = parseLong(value);
                case "ksm_merge_any" -> mergeAny = parseYesNo(value);
                case "ksm_mergeable" -> mergeable = parseYesNo(value);
                default -> {
                    // A newer kernel's line: ignore rather than fail.
                }
            }
        }
        return new ProcessKsmStat(pid, "", rmapItems, zeroPages, mergingPages, profit, mergeAny, mergeable);
    }

    private static OptionalLong parseLong(String value) {
        try {
            return OptionalLong.of(Long.parseLong(value));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static Optional<Boolean> parseYesNo(String value) {
        return switch (value) {
            case "yes" -> Optional.of(true);
            case "no" -> Optional.of(false);
            default -> Optional.empty();
        };
    }

    private String name(int pid) {
        try {
            return readIfPresent(procRoot.resolve(Integer.toString(pid)).resolve("comm"))
                    .map(String::strip)
                    .orElse("?");
        } catch (AccessDeniedException e) {
            return "?";
        }
    }

    /** The file's text; empty when it is absent or gone (the process exited); denied is for the caller. */
    private static Optional<String> readIfPresent(Path file) throws AccessDeniedException {
        try {
            return Optional.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
        } catch (AccessDeniedException e) {
            throw e;
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
