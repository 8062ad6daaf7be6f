package org.memhygiene.controller.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our baseline mode against Debian's real ksmtuned: the same inputs (MemTotal, free memory, memory
 * committed to QEMU) go to both, step by step, and every decision must match. ksmtuned runs unmodified
 * in a private mount namespace with its /proc/meminfo and KSM files bound to files of the test.
 */
class KsmtunedEquivalenceTest {
    private static final Path KSMTUNED = Path.of("/usr/sbin/ksmtuned");
    private static final int STEPS = 300;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "MemTotal {0} KiB")
    @ValueSource(longs = {16_777_216L, 2_097_152L, 8_000L, 263_921_664L})
    void baselineDecidesWhatKsmtunedDecides(long memTotalKib) throws Exception {
        Assumptions.assumeTrue(
                Files.isReadable(KSMTUNED), "skipped: needs Debian's ksmtuned package (" + KSMTUNED + ")");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "skipped: needs unshare (util-linux)");

        List<KsmtunedBaseline.Input> inputs = inputsAroundTheThresholds(memTotalKib, new Random(memTotalKib));
        List<String> ksmtuned = runKsmtuned(memTotalKib, inputs);
        Assumptions.assumeTrue(
                ksmtuned.size() == inputs.size(),
                "skipped: could not run ksmtuned in a private mount namespace here: " + ksmtuned);

        KsmtunedBaseline baseline = new KsmtunedBaseline(KsmtunedConfig.DEFAULTS);
        boolean sawStop = false;
        boolean sawBoost = false;
        long pagesWritten = 100;
        long sleepWritten = 20;
        for (int i = 0; i < inputs.size(); i++) {
            KsmtunedBaseline.Decision ours = baseline.adjust(inputs.get(i));
            if (ours.run()) {
                pagesWritten = ours.pagesToScan();
                sleepWritten = ours.sleepMillisecs();
                sawBoost |= ours.reason().contains("boost");
            } else {
                sawStop = true;
            }
            String oursAsFiles = (ours.run() ? 1 : 0) + " " + pagesWritten + " " + sleepWritten;
            assertEquals(ksmtuned.get(i), oursAsFiles, "step " + i + " " + inputs.get(i) + ": " + ours.reason());
        }
        assertTrue(sawStop && sawBoost, "the inputs exercise both stopping and boosting");
    }

    /** Free and committed memory wandering across ksmtuned's threshold, including the exact edges. */
    private static List<KsmtunedBaseline.Input> inputsAroundTheThresholds(long total, Random random) {
        long thres = Math.max(2048, total * 20 / 100);
        List<KsmtunedBaseline.Input> inputs = new ArrayList<>();
        for (int i = 0; i < STEPS; i++) {
            long free = switch (i % 5) {
                case 0 -> thres;
                case 1 -> thres + 1;
                case 2 -> thres - 1;
                default -> (long) (random.nextDouble() * total);
            };
            long committed = switch (i % 7) {
                case 0 -> total - thres;
                case 1 -> total - thres - 1;
                case 2 -> 0;
                default -> (long) (random.nextDouble() * total);
            };
            inputs.add(new KsmtunedBaseline.Input(total, Math.max(0, free), Math.max(0, committed)));
        }
        return inputs;
    }

    private List<String> runKsmtuned(long total, List<KsmtunedBaseline.Input> inputs)
            throws IOException, InterruptedException {
        Path script = dir.resolve("run-ksmtuned.sh");
        try (InputStream in = getClass().getResourceAsStream("/policy/run-ksmtuned.sh")) {
            Files.copy(in, script);
        }
        Process process = new ProcessBuilder(
                        "/usr/bin/unshare",
                        "--mount",
                        "--propagation",
                        "private",
                        "bash",
                        script.toString(),
                        dir.resolve("work").toString(),
                        Long.toString(total))
                .start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        });
        StringBuilder stdin = new StringBuilder();
        inputs.forEach(input -> stdin.append(input.freeKib())
                .append(' ')
                .append(input.committedKib())
                .append('\n'));
        process.getOutputStream().write(stdin.toString().getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines()
                .toList();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "ksmtuned finishes");
        if (lines.size() != inputs.size()) {
            return List.of("exit " + process.exitValue() + ": " + err.join());
        }
        return lines;
    }
}
