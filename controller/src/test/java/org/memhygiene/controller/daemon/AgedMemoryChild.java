package org.memhygiene.controller.daemon;

import com.sun.jna.Pointer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * A real process standing in for a guest's freed memory: maps {@code pages} anonymous pages, small pages
 * only (MADV_NOHUGEPAGE, so every page is one KSM candidate and the counts are exact), fills each with
 * random data (nothing in it merges with anything), marks it MADV_MERGEABLE and prints "ready". On a
 * line "zero" on its standard input it writes zeroes over every page, as a guest agent's scrub does,
 * and prints "zeroed"; it exits when its input closes.
 */
public final class AgedMemoryChild {
    private AgedMemoryChild() {}

    public static void main(String[] args) throws IOException {
        long pages = Long.parseLong(args[0]);
        long page = LinuxMemory.pageSizeBytes();
        long length = pages * page;
        Pointer memory = LinuxMemory.mapAnonymous(length);
        LinuxMemory.madvise(memory, length, LinuxMemory.MADV_NOHUGEPAGE);
        SplittableRandom random = new SplittableRandom();
        byte[] data = new byte[(int) page];
        for (long i = 0; i < pages; i++) {
            random.nextBytes(data);
            memory.write(i * page, data, 0, data.length);
        }
        LinuxMemory.madvise(memory, length, LinuxMemory.MADV_MERGEABLE);
        System.out.println("ready");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.equals("zero")) {
                memory.setMemory(0, length, (byte) 0);
                System.out.println("zeroed");
                System.out.flush();
            }
        }
    }
}
