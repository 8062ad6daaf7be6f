package org.memhygiene.core.ksm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.memhygiene.core.linux.LinuxMemory;

/** A temporary /sys/kernel/mm/ksm of a 6.8+ kernel with the kernel's defaults, for tests. */
public final class SysfsTree {
    static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("pages_shared", "0");
        DEFAULTS.put("pages_sharing", "0");
        DEFAULTS.put("pages_unshared", "0");
        DEFAULTS.put("pages_volatile", "0");
        DEFAULTS.put("pages_scanned", "0");
        DEFAULTS.put("pages_skipped", "0");
        DEFAULTS.put("full_scans", "0");
        DEFAULTS.put("ksm_zero_pages", "0");
        DEFAULTS.put("general_profit", "0");
        DEFAULTS.put("stable_node_chains", "0");
        DEFAULTS.put("stable_node_dups", "0");
        DEFAULTS.put("run", "0");
        DEFAULTS.put("pages_to_scan", "100");
        DEFAULTS.put("sleep_millisecs", "20");
        DEFAULTS.put("max_page_sharing", "256");
        DEFAULTS.put("merge_across_nodes", "1");
        DEFAULTS.put("use_zero_pages", "0");
        DEFAULTS.put("smart_scan", "1");
        DEFAULTS.put("stable_node_chains_prune_millisecs", "2000");
        DEFAULTS.put("advisor_mode", "[none] scan-time");
        DEFAULTS.put("advisor_max_cpu", "70");
        DEFAULTS.put("advisor_min_pages_to_scan", "500");
        DEFAULTS.put("advisor_max_pages_to_scan", "30000");
        DEFAULTS.put("advisor_target_scan_time", "200");
    }

    private final Path root;

    private SysfsTree(Path root) {
        this.root = root;
    }

    public static SysfsTree create(Path parent) {
        SysfsTree tree = new SysfsTree(parent.resolve("ksm"));
        try {
            Files.createDirectories(tree.root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        DEFAULTS.forEach(tree::put);
        return tree;
    }

    public Path root() {
        return root;
    }

    public SysfsTree put(String file, String value) {
        try {
            Files.writeString(root.resolve(file), value + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public SysfsTree remove(String file) {
        try {
            Files.delete(root.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public String get(String file) {
        try {
            return Files.readString(root.resolve(file)).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public KsmSysfs sysfs() {
        return new KsmSysfs(root, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
    }
}
