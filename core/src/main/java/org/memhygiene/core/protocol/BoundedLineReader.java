package org.memhygiene.core.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads newline-terminated UTF-8 lines from an untrusted peer without ever holding more than
 * {@code maxLineBytes}: a longer line is skipped up to its newline and reported as too long, so an
 * endless line costs a bounded buffer, not the heap. Not thread-safe.
 */
public final class BoundedLineReader {
    /** One line, or why it is not one. */
    public record Line(String text, Problem problem) {
        public enum Problem {
            NONE,
            TOO_LONG,
            INVALID_UTF8
        }
    }

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] line;
    private final byte[] chunk = new byte[8192];
    private int chunkStart;
    private int chunkEnd;
    /** The line read so far: kept across a read that timed out, so that {@link #next()} resumes it. */
    private int length;

    private boolean tooLong;

    public BoundedLineReader(InputStream in, int maxLineBytes) {
        if (maxLineBytes <= 0) {
            throw new IllegalArgumentException("maxLineBytes must be positive, was " + maxLineBytes);
        }
        this.in = in;
        this.maxLineBytes = maxLineBytes;
        this.line = new byte[maxLineBytes];
    }

    /**
     * The next line without its newline (and a trailing CR), or null at end of stream. A read that throws
     * (a deadline passed) loses nothing: the next call goes on with the line where it stopped.
     */
    public Line next() throws IOException {
        while (true) {
            if (chunkStart == chunkEnd) {
                int read = in.read(chunk);
                if (read < 0) {
                    // A last line without a newline is still a line; an empty tail is the end.
                    return length == 0 && !tooLong ? null : finish();
                }
                chunkStart = 0;
                chunkEnd = read;
            }
            while (chunkStart < chunkEnd) {
                byte b = chunk[chunkStart++];
                if (b == '\n') {
                    return finish();
                }
                if (length < maxLineBytes) {
                    line[length++] = b;
                } else {
                    tooLong = true;
                }
            }
        }
    }

    private Line finish() {
        boolean skipped = tooLong;
        int end = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
        length = 0;
        tooLong = false;
        if (skipped) {
            return new Line("", Line.Problem.TOO_LONG);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return new Line(decoder.decode(ByteBuffer.wrap(line, 0, end)).toString(), Line.Problem.NONE);
        } catch (CharacterCodingException e) {
            return new Line("", Line.Problem.INVALID_UTF8);
        }
    }
}
