package org.memhygiene.bench.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a deadline and keeps its exit code and output (stderr apart). */
record Cli(List<String> command, int exitCode, String stdout, String stderr) {

    static Cli run(List<String> command, Duration timeout) {
        try {
            File err = File.createTempFile("memhygiene-e2e", ".err");
            Process p = new ProcessBuilder(command).redirectError(err).start();
            p.getOutputStream().close();
            var out = CompletableFuture.supplyAsync(() -> Guest.readAll(p.getInputStream()));
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        String.join(" ", command) + ": no exit within " + timeout.toSeconds() + " s");
            }
            String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
            Files.delete(err.toPath());
            return new Cli(command, p.exitValue(), out.join(), stderr);
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(String.join(" ", command) + ": interrupted", e);
        }
    }

    String orThrow() {
        if (exitCode != 0) {
            throw new IllegalStateException(
                    String.join(" ", command) + " exited " + exitCode + ": " + stderr.strip() + " " + stdout.strip());
        }
        return stdout;
    }
}
