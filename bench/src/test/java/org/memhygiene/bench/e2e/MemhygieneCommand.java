package org.memhygiene.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The command under test, run as an admin runs it: through bin/memhygiene, which knows where its jars
 * are. Every call of the suite goes through here.
 */
final class MemhygieneCommand {
    private static final Duration TIMEOUT = Duration.ofMinutes(6);

    private final Path launcher;
    private final ObjectMapper json = new ObjectMapper();

    MemhygieneCommand(Path repo) {
        this.launcher = repo.resolve("bin/memhygiene");
    }

    /** The launcher itself, for a command the suite starts as a process of its own (the daemon). */
    Path launcher() {
        return launcher;
    }

    /** Runs {@code bin/memhygiene ARGS...}; returns its standard output, fails on a non-zero exit. */
    String run(String... args) {
        List<String> command = new ArrayList<>();
        command.add(launcher.toString());
        command.addAll(List.of(args));
        return Cli.run(command, TIMEOUT).orThrow();
    }

    /** {@link #run} of a command with {@code --json} among its arguments: its document. */
    JsonNode json(String... args) throws IOException {
        return json.readTree(run(args));
    }
}
