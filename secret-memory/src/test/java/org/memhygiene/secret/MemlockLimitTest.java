package org.memhygiene.secret;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * A secret in a process without CAP_IPC_LOCK, as in a systemd unit that does not grant it (the controller's):
 * both backings are charged to RLIMIT_MEMLOCK (mlock(2); memfd_secret(2) mappings are VM_LOCKED). Runs
 * {@link ProtectionProbe} in a child JVM whose capabilities setpriv empties and whose limit prlimit sets;
 * needs root to do that, else it is skipped saying so.
 */
class MemlockLimitTest {
    /** The smallest default RLIMIT_MEMLOCK of any kernel (64 KiB before 5.16; 8 MiB since). */
    private static final long OLD_DEFAULT_MEMLOCK_BYTES = 64 * 1024;

    @BeforeAll
    static void needsRootAndUtilLinux() throws IOException {
        boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0"));
        boolean tools =
                Files.isExecutable(Path.of("/usr/bin/setpriv")) && Files.isExecutable(Path.of("/usr/bin/prlimit"));
        if (!root || !tools) {
            System.out.println(
                    "SKIP MemlockLimitTest: needs root and util-linux's setpriv and prlimit (root " + root + ")");
        }
        assumeTrue(root && tools, "needs root, setpriv and prlimit");
    }

    private static String probe(long memlockBytes) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(
                "/usr/bin/prlimit",
                "--memlock=" + memlockBytes + ":" + memlockBytes,
                "/usr/bin/setpriv",
                "--bounding-set=-all",
                "--inh-caps=-all",
                "--ambient-caps=-all",
                "sh",
                "-c",
                "grep CapEff /proc/self/status; exec \"$@\"",
                "sh",
                java,
                "-Xmx32m",
                "-cp",
                System.getProperty("java.class.path"),
                ProtectionProbe.class.getName()));
        Process probe = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(probe.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, probe.exitValue(), output);
        assertTrue(output.contains("CapEff:\t0000000000000000"), "no capabilities at all:\n" + output);
        return output;
    }

    @Test
    void withoutCapIpcLockASecretFitsTheSmallestDefaultLimit() throws Exception {
        String output = probe(OLD_DEFAULT_MEMLOCK_BYTES);
        System.out.println("RLIMIT_MEMLOCK " + OLD_DEFAULT_MEMLOCK_BYTES + ", no capabilities:\n" + output);
        String expected = KernelSecretmem.offered() ? "MEMFD_SECRET -> memfd_secret (" : "MEMFD_SECRET -> mlock + ";
        assertTrue(output.contains(expected), KernelSecretmem.evidence() + ":\n" + output);
        assertTrue(output.contains("LOCKED_ANONYMOUS -> mlock + MADV_DONTDUMP + MADV_WIPEONFORK"), output);
    }

    @Test
    void withoutCapIpcLockAndNoLimitLeftBothBackingsAreRefusedSayingWhy() throws Exception {
        String output = probe(0);
        System.out.println("RLIMIT_MEMLOCK 0, no capabilities:\n" + output);
        for (String line : output.lines().filter(l -> l.contains(" -> ")).toList()) {
            assertTrue(line.contains("-> failed: no secret memory of "), line);
            assertTrue(line.contains("mlock(") && line.contains("RLIMIT_MEMLOCK"), line);
        }
        if (KernelSecretmem.offered()) {
            // secretmem's mmap checks the limit first (mm/secretmem.c, mlock_future_ok): EAGAIN.
            assertTrue(
                    output.contains("MEMFD_SECRET -> failed: no secret memory of " + LinuxMemory.pageSizeBytes()
                                    + " bytes: memfd_secret refused: mmap(")
                            && output.contains("EAGAIN"),
                    output);
        }
    }
}
