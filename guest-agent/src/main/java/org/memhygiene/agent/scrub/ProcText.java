package org.memhygiene.agent.scrub;

import java.nio.charset.StandardCharsets;

/** Byte-level helpers for /proc text, so the scrubber's frequent checks make no garbage. */
final class ProcText {
    private ProcText() {}

    /** Offset of the first line that starts with {@code prefix} (ASCII), or -1. */
    static int lineStarting(byte[] text, int length, String prefix) {
        for (int line = 0; line < length; ) {
            if (startsWith(text, length, line, prefix)) {
                return line;
            }
            while (line < length && text[line] != '\n') {
                line++;
            }
            line++;
        }
        return -1;
    }

    static boolean startsWith(byte[] text, int length, int offset, String prefix) {
        if (offset + prefix.length() > length) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (text[offset + i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The line that starts at {@code offset}, without its newline: for error messages. */
    static String lineAt(byte[] text, int length, int offset) {
        int end = offset;
        while (end < length && text[end] != '\n') {
            end++;
        }
        return new String(text, offset, end - offset, StandardCharsets.US_ASCII);
    }
}
