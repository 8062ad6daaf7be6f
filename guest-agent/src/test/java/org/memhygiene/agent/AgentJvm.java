package org.memhygiene.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's JVM as its launcher starts it (guest-agent/src/main/dist/memhygiene-agent, {@code agent_java_opts}:
 * no JIT, a small heap), for tests whose figures must be the production agent's (the canary's write times).
 */
public final class AgentJvm {
    private static final Path LAUNCHER = Path.of("..", "guest-agent", "src", "main", "dist", "memhygiene-agent");
    private static final Pattern OPTS = Pattern.compile("(?m)^agent_java_opts=\"([^\"]*)\"");

    private AgentJvm() {}

    /** {@code java FLAGS -cp THIS-TEST'S-CLASS-PATH main args...}. */
    public static List<String> command(Class<?> main, String... args) throws IOException {
        Matcher m = OPTS.matcher(Files.readString(LAUNCHER));
        if (!m.find()) {
            throw new IllegalStateException(LAUNCHER + ": no agent_java_opts=\"...\" line");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(m.group(1).trim().split("\\s+")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
