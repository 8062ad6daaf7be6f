package org.memhygiene.simulator.fidelity;

import com.sun.jna.Pointer;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * One simulated guest made real for the fidelity run: a process that maps anonymous memory of the
 * guest's size (small pages only, MADV_NOHUGEPAGE, so each page is one KSM candidate), fills every
 * present page with its simulated content, marks it all MADV_MERGEABLE, prints "ready", then applies
 * commands from standard input until it closes: {@code w PAGE CONTENT} writes a page,
 * {@code d PAGE} discards it (MADV_DONTNEED, as the host does for a reported free page), {@code .}
 * answers "ok".
 *
 * <p>Args: page count, salt, contents file (big-endian ints, one per page; {@link #ABSENT} for a page
 * never touched). A page with content 0 is all zeroes; any other content id is written as the salt and
 * the id in the first 12 bytes, so equal ids are equal pages and no other process's page matches one.
 */
public final class FidelityChild {
    public static final int ABSENT = Integer.MIN_VALUE;

    private FidelityChild() {}

    public static void main(String[] args) throws IOException {
        int pages = Integer.parseInt(args[0]);
        long salt = Long.parseLong(args[1]);
        long page = LinuxMemory.pageSizeBytes();
        long length = pages * page;
        Pointer memory = LinuxMemory.mapAnonymous(length);
        LinuxMemory.madvise(memory, length, LinuxMemory.MADV_NOHUGEPAGE);
        try (DataInputStream in = new DataInputStream(Files.newInputStream(Path.of(args[2])))) {
            for (int i = 0; i < pages; i++) {
                int content = in.readInt();
                if (content != ABSENT) {
                    write(memory, i * page, salt, content);
                }
            }
        }
        LinuxMemory.madvise(memory, length, LinuxMemory.MADV_MERGEABLE);
        System.out.println("ready");
        System.out.flush();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line; (line = commands.readLine()) != null; ) {
            String[] w = line.split(" ");
            switch (w[0]) {
                case "w" -> write(memory, Long.parseLong(w[1]) * page, salt, Integer.parseInt(w[2]));
                case "d" ->
                    LinuxMemory.madvise(memory.share(Long.parseLong(w[1]) * page), page, LinuxMemory.MADV_DONTNEED);
                case "." -> {
                    System.out.println("ok");
                    System.out.flush();
                }
                default -> throw new IllegalArgumentException("unknown command '" + line + "'");
            }
        }
    }

    private static void write(Pointer memory, long offset, long salt, int content) {
        if (content == 0) {
            memory.setLong(offset, 0);
            memory.setInt(offset + 8, 0);
        } else {
            memory.setLong(offset, salt);
            memory.setInt(offset + 8, content);
        }
    }
}
