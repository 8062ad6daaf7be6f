package org.memhygiene.core.ksm;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every file of /sys/kernel/mm/ksm this version knows, how its text is read, and whether it is a knob.
 * Source: mm/ksm.c (the *_show and *_store functions) and Documentation/admin-guide/mm/ksm.rst.
 */
public enum KsmFile {
    PAGES_SHARED("pages_shared", Kind.UNSIGNED),
    PAGES_SHARING("pages_sharing", Kind.UNSIGNED),
    PAGES_UNSHARED("pages_unshared", Kind.UNSIGNED),
    PAGES_VOLATILE("pages_volatile", Kind.UNSIGNED),
    PAGES_SCANNED("pages_scanned", Kind.UNSIGNED),
    PAGES_SKIPPED("pages_skipped", Kind.UNSIGNED),
    FULL_SCANS("full_scans", Kind.UNSIGNED),
    KSM_ZERO_PAGES("ksm_zero_pages", Kind.SIGNED),
    /** Printed with %ld: negative when rmap_items cost more than merging saves. */
    GENERAL_PROFIT("general_profit", Kind.SIGNED),
    STABLE_NODE_CHAINS("stable_node_chains", Kind.UNSIGNED),
    STABLE_NODE_DUPS("stable_node_dups", Kind.UNSIGNED),
    RUN("run", Kind.UNSIGNED),
    PAGES_TO_SCAN("pages_to_scan", Kind.UNSIGNED),
    SLEEP_MILLISECS("sleep_millisecs", Kind.UNSIGNED),
    MAX_PAGE_SHARING("max_page_sharing", Kind.UNSIGNED),
    MERGE_ACROSS_NODES("merge_across_nodes", Kind.UNSIGNED),
    USE_ZERO_PAGES("use_zero_pages", Kind.UNSIGNED),
    SMART_SCAN("smart_scan", Kind.UNSIGNED),
    STABLE_NODE_CHAINS_PRUNE_MILLISECS("stable_node_chains_prune_millisecs", Kind.UNSIGNED),
    /** Shown as "[none] scan-time": the bracketed word is the selected mode. */
    ADVISOR_MODE("advisor_mode", Kind.SELECTION),
    ADVISOR_MAX_CPU("advisor_max_cpu", Kind.UNSIGNED),
    ADVISOR_MIN_PAGES_TO_SCAN("advisor_min_pages_to_scan", Kind.UNSIGNED),
    ADVISOR_MAX_PAGES_TO_SCAN("advisor_max_pages_to_scan", Kind.UNSIGNED),
    ADVISOR_TARGET_SCAN_TIME("advisor_target_scan_time", Kind.UNSIGNED);

    /** How the kernel prints the file. */
    public enum Kind {
        UNSIGNED,
        SIGNED,
        SELECTION
    }

    private static final Map<String, KsmFile> BY_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(KsmFile::fileName, Function.identity()));

    private final String fileName;
    private final Kind kind;

    KsmFile(String fileName, Kind kind) {
        this.fileName = fileName;
        this.kind = kind;
    }

    public String fileName() {
        return fileName;
    }

    public Kind kind() {
        return kind;
    }

    public static Optional<KsmFile> byName(String fileName) {
        return Optional.ofNullable(BY_NAME.get(fileName));
    }
}
