package org.memhygiene.core.ksm;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The writable files of /sys/kernel/mm/ksm and what each accepts. The ranges are the kernel's own
 * (the *_store functions of mm/ksm.c), narrowed only where a wider value makes no sense
 * (advisor_max_cpu is a percentage). Validation happens here, before anything touches sysfs.
 */
public enum KsmKnob {
    // Declared in write order: run first (only when 2, see KsmSettings), advisor_mode before pages_to_scan.
    /** 0 stops ksmd, 1 runs it, 2 stops it and unmerges every merged page (may need much memory). */
    RUN(KsmFile.RUN, Type.NUMBER, 0, 2),
    /** While "scan-time", the advisor owns pages_to_scan and the kernel refuses writes to it. */
    ADVISOR_MODE(KsmFile.ADVISOR_MODE, Type.CHOICE, 0, 0),
    /** Changes only while pages_shared is 0: unmerge first with run=2. */
    MERGE_ACROSS_NODES(KsmFile.MERGE_ACROSS_NODES, Type.BOOLEAN, 0, 1),
    /** At least 2 (a new KSM page has two sharers); changes only while pages_shared is 0. */
    MAX_PAGE_SHARING(KsmFile.MAX_PAGE_SHARING, Type.NUMBER, 2, Integer.MAX_VALUE),
    PAGES_TO_SCAN(KsmFile.PAGES_TO_SCAN, Type.NUMBER, 0, KsmKnob.UINT_MAX),
    SLEEP_MILLISECS(KsmFile.SLEEP_MILLISECS, Type.NUMBER, 0, KsmKnob.UINT_MAX),
    USE_ZERO_PAGES(KsmFile.USE_ZERO_PAGES, Type.BOOLEAN, 0, 1),
    SMART_SCAN(KsmFile.SMART_SCAN, Type.BOOLEAN, 0, 1),
    STABLE_NODE_CHAINS_PRUNE_MILLISECS(KsmFile.STABLE_NODE_CHAINS_PRUNE_MILLISECS, Type.NUMBER, 0, KsmKnob.UINT_MAX),
    ADVISOR_MAX_CPU(KsmFile.ADVISOR_MAX_CPU, Type.NUMBER, 1, 100),
    ADVISOR_MIN_PAGES_TO_SCAN(KsmFile.ADVISOR_MIN_PAGES_TO_SCAN, Type.NUMBER, 1, KsmKnob.UINT_MAX),
    ADVISOR_MAX_PAGES_TO_SCAN(KsmFile.ADVISOR_MAX_PAGES_TO_SCAN, Type.NUMBER, 1, KsmKnob.UINT_MAX),
    ADVISOR_TARGET_SCAN_TIME(KsmFile.ADVISOR_TARGET_SCAN_TIME, Type.NUMBER, 1, KsmKnob.UINT_MAX);

    public static final long RUN_STOP = 0;
    public static final long RUN_MERGE = 1;
    public static final long RUN_UNMERGE = 2;
    static final long UINT_MAX = 4_294_967_295L;
    static final Set<String> ADVISOR_MODES = Set.of("none", "scan-time");

    private enum Type {
        NUMBER,
        BOOLEAN,
        CHOICE
    }

    private final KsmFile file;
    private final Type type;
    private final long min;
    private final long max;

    KsmKnob(KsmFile file, Type type, long min, long max) {
        this.file = file;
        this.type = type;
        this.min = min;
        this.max = max;
    }

    public KsmFile file() {
        return file;
    }

    @JsonValue // JSON names a knob as sysfs does (pages_to_scan), like every other key of the API
    public String fileName() {
        return file.fileName();
    }

    /** What the knob accepts, for error messages and help. */
    public String allowed() {
        return switch (type) {
            case NUMBER -> "an integer from " + min + " to " + max;
            case BOOLEAN -> "0 or 1 (also on/off, yes/no, true/false)";
            case CHOICE -> "one of " + ADVISOR_MODES.stream().sorted().collect(Collectors.joining(", "));
        };
    }

    /**
     * The text to write for {@code value}, or an {@link IllegalArgumentException} naming the knob, the
     * value and what is allowed.
     */
    public String validate(String value) {
        String v = value.strip();
        switch (type) {
            case NUMBER -> {
                long number;
                if (v.isEmpty() || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    throw invalid(value);
                }
                try {
                    number = Long.parseLong(v);
                } catch (NumberFormatException e) {
                    throw invalid(value);
                }
                if (number < min || number > max) {
                    throw invalid(value);
                }
                return Long.toString(number);
            }
            case BOOLEAN -> {
                return switch (v.toLowerCase(Locale.ROOT)) {
                    case "1", "on", "yes", "y", "true" -> "1";
                    case "0", "off", "no", "n", "false" -> "0";
                    default -> throw invalid(value);
                };
            }
            default -> {
                if (!ADVISOR_MODES.contains(v)) {
                    throw invalid(value);
                }
                return v;
            }
        }
    }

    private IllegalArgumentException invalid(String value) {
        return new IllegalArgumentException(
                "invalid value '" + value + "' for KSM knob " + fileName() + ": expected " + allowed());
    }

    public static Optional<KsmKnob> byName(String fileName) {
        return Arrays.stream(values())
                .filter(k -> k.fileName().equals(fileName))
                .findFirst();
    }

    public static String names() {
        return Arrays.stream(values()).map(KsmKnob::fileName).collect(Collectors.joining(", "));
    }
}
