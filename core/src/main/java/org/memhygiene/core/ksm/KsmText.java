package org.memhygiene.core.ksm;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Parses the text of the files under /sys/kernel/mm/ksm into {@link KsmStats}. Malformed text never
 * becomes a number: the file is listed in {@link KsmStats#unreadableFiles()} with the reason, and its
 * value is absent.
 */
public final class KsmText {
    private KsmText() {}

    /**
     * @param textByFile  file name to its raw text, for every file present
     * @param readErrors  file name to the reason it could not be read (e.g. permission denied)
     */
    public static KsmStats parse(Map<String, String> textByFile, Map<String, String> readErrors) {
        Map<KsmFile, Long> numbers = new HashMap<>();
        Map<KsmFile, String> selections = new HashMap<>();
        Map<String, String> unknown = new HashMap<>();
        Map<String, String> unreadable = new HashMap<>(readErrors);
        textByFile.forEach((name, text) -> {
            Optional<KsmFile> file = KsmFile.byName(name);
            if (file.isEmpty()) {
                unknown.put(name, text.strip());
                return;
            }
            try {
                if (file.get().kind() == KsmFile.Kind.SELECTION) {
                    selections.put(file.get(), parseSelection(text));
                } else {
                    numbers.put(file.get(), parseNumber(text, file.get().kind() == KsmFile.Kind.SIGNED));
                }
            } catch (IllegalArgumentException e) {
                unreadable.put(name, e.getMessage());
            }
        });
        return new KsmStats(
                get(numbers, KsmFile.PAGES_SHARED),
                get(numbers, KsmFile.PAGES_SHARING),
                get(numbers, KsmFile.PAGES_UNSHARED),
                get(numbers, KsmFile.PAGES_VOLATILE),
                get(numbers, KsmFile.PAGES_SCANNED),
                get(numbers, KsmFile.PAGES_SKIPPED),
                get(numbers, KsmFile.FULL_SCANS),
                get(numbers, KsmFile.KSM_ZERO_PAGES),
                get(numbers, KsmFile.GENERAL_PROFIT),
                get(numbers, KsmFile.STABLE_NODE_CHAINS),
                get(numbers, KsmFile.STABLE_NODE_DUPS),
                get(numbers, KsmFile.RUN),
                get(numbers, KsmFile.PAGES_TO_SCAN),
                get(numbers, KsmFile.SLEEP_MILLISECS),
                get(numbers, KsmFile.MAX_PAGE_SHARING),
                get(numbers, KsmFile.MERGE_ACROSS_NODES),
                get(numbers, KsmFile.USE_ZERO_PAGES),
                get(numbers, KsmFile.SMART_SCAN),
                get(numbers, KsmFile.STABLE_NODE_CHAINS_PRUNE_MILLISECS),
                Optional.ofNullable(selections.get(KsmFile.ADVISOR_MODE)),
                get(numbers, KsmFile.ADVISOR_MAX_CPU),
                get(numbers, KsmFile.ADVISOR_MIN_PAGES_TO_SCAN),
                get(numbers, KsmFile.ADVISOR_MAX_PAGES_TO_SCAN),
                get(numbers, KsmFile.ADVISOR_TARGET_SCAN_TIME),
                unknown,
                unreadable);
    }

    private static OptionalLong get(Map<KsmFile, Long> numbers, KsmFile file) {
        Long value = numbers.get(file);
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    /**
     * A decimal as the kernel prints it with %lu or %ld, followed by a newline. Values past
     * 2^63-1 are rejected: no KSM counter can reach them, so such text is corruption.
     */
    static long parseNumber(String text, boolean signed) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty file, expected a decimal number");
        }
        int start = signed && trimmed.charAt(0) == '-' ? 1 : 0;
        if (start == trimmed.length()) {
            throw new IllegalArgumentException("'" + abbreviate(trimmed) + "' is not a decimal number");
        }
        for (int i = start; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("'" + abbreviate(trimmed) + "' is not a decimal number");
            }
        }
        try {
            return Long.parseLong(trimmed);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(abbreviate(trimmed) + " is out of range (past 2^63-1)");
        }
    }

    /** "[none] scan-time" selects "none". */
    static String parseSelection(String text) {
        String trimmed = text.strip();
        int open = trimmed.indexOf('[');
        int close = trimmed.indexOf(']', open + 1);
        if (open < 0 || close < 0 || close == open + 1) {
            throw new IllegalArgumentException("'" + abbreviate(trimmed) + "' has no [selected] choice");
        }
        return trimmed.substring(open + 1, close);
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
