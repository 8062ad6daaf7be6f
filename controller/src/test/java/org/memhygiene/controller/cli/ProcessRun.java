package org.memhygiene.controller.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A finished external command: exit code and what it printed (shared with cli/'s launcher tests). */
public record ProcessRun(int exitCode, String out, String err) {
    public static ProcessRun of(List<String> command, Path workingDirectory) throws IOException, InterruptedException {
        return of(command, workingDirectory, Map.of());
    }

    /** With these environment variables set; an empty value removes the variable. */
    public static ProcessRun of(List<String> command, Path workingDirectory, Map<String, String> environment)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile());
        environment.forEach((k, v) -> {
            if (v.isEmpty()) {
                builder.environment().remove(k);
            } else {
                builder.environment().put(k, v);
            }
        });
        Process process = builder.start();
        process.getOutputStream().close();
        // Drain stderr beside stdout so neither pipe can fill up and stall the command.
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        String out = read(process.getInputStream());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "finishes within a minute: " + command);
        return new ProcessRun(process.exitValue(), out, err.join());
    }

    private static String read(InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
