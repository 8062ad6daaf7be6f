package org.memhygiene.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.protocol.BoundedLineReader.Line;
import org.memhygiene.core.protocol.BoundedLineReader.Line.Problem;

class BoundedLineReaderTest {
    private static BoundedLineReader reader(byte[] bytes, int max) {
        return new BoundedLineReader(new ByteArrayInputStream(bytes), max);
    }

    @Test
    void linesWithAndWithoutCarriageReturnAndALastLineWithoutNewline() throws IOException {
        BoundedLineReader r = reader("one\ntwo\r\n\nthree".getBytes(StandardCharsets.UTF_8), 16);
        assertEquals(new Line("one", Problem.NONE), r.next());
        assertEquals(new Line("two", Problem.NONE), r.next());
        assertEquals(new Line("", Problem.NONE), r.next());
        assertEquals(new Line("three", Problem.NONE), r.next());
        assertNull(r.next());
    }

    @Test
    void aReadThatTimesOutMidLineLosesNothingOfTheLine() throws IOException {
        // "hel", then a deadline passes, then "lo\n" and a line longer than the limit cut by another timeout.
        Object[] pieces = {"hel", "timeout", "lo\nabcdefgh", "timeout", "ij\nok\n"};
        InputStream stream = new InputStream() {
            int next;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (next == pieces.length) {
                    return -1;
                }
                String piece = (String) pieces[next++];
                if (piece.equals("timeout")) {
                    throw new SocketTimeoutException("deadline");
                }
                byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
                System.arraycopy(bytes, 0, b, off, bytes.length);
                return bytes.length;
            }
        };
        BoundedLineReader r = new BoundedLineReader(stream, 8);
        assertThrows(SocketTimeoutException.class, r::next);
        assertEquals(new Line("hello", Problem.NONE), r.next());
        assertThrows(SocketTimeoutException.class, r::next);
        assertEquals(new Line("", Problem.TOO_LONG), r.next(), "the 10-byte line is too long across the timeout");
        assertEquals(new Line("ok", Problem.NONE), r.next());
        assertNull(r.next());
    }

    @Test
    void anEndlessLineIsSkippedWithoutBeingHeldAndTheNextLineIsIntact() throws IOException {
        // 100 MiB of 'a' produced on the fly: only a reader that never buffers the line survives it.
        long endless = 100L << 20;
        InputStream stream = new InputStream() {
            long served;
            final byte[] tail = "\n{\"ok\":1}\n".getBytes(StandardCharsets.UTF_8);

            @Override
            public int read() {
                if (served < endless) {
                    served++;
                    return 'a';
                }
                int i = (int) (served++ - endless);
                return i < tail.length ? tail[i] : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                int n = 0;
                while (n < len) {
                    int c = read();
                    if (c < 0) {
                        return n == 0 ? -1 : n;
                    }
                    b[off + n++] = (byte) c;
                    if (c == '\n') {
                        break;
                    }
                }
                return n;
            }
        };
        BoundedLineReader r = new BoundedLineReader(stream, AgentProtocol.MAX_LINE_BYTES);
        assertEquals(Problem.TOO_LONG, r.next().problem());
        assertEquals(new Line("{\"ok\":1}", Problem.NONE), r.next());
        assertNull(r.next());
    }

    @Test
    void aLineOfExactlyTheLimitIsAcceptedOneMoreByteIsNot() throws IOException {
        byte[] exact = ("x".repeat(8) + "\n" + "y".repeat(9) + "\n").getBytes(StandardCharsets.UTF_8);
        BoundedLineReader r = reader(exact, 8);
        assertEquals(new Line("x".repeat(8), Problem.NONE), r.next());
        assertEquals(Problem.TOO_LONG, r.next().problem());
    }

    @Test
    void malformedUtf8IsReportedNotReplaced() throws IOException {
        BoundedLineReader r = reader(new byte[] {'o', (byte) 0xc3, '\n', (byte) 0xc3, (byte) 0xa9, '\n'}, 16);
        assertEquals(Problem.INVALID_UTF8, r.next().problem());
        assertEquals(new Line("é", Problem.NONE), r.next());
    }
}
