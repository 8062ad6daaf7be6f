package org.memhygiene.agent;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.memhygiene.core.cli.CliErrors;
import org.memhygiene.core.cli.LogLines;
import org.memhygiene.core.protocol.AgentProtocol;

/**
 * The entry point of {@code bin/memhygiene-agent}. With only the serving options (--listen, --config) it
 * serves without loading picocli ({@link AgentService}); everything else, --help and every usage error
 * included, goes to the picocli command line {@link AgentCommand}. This class does not mention picocli's
 * types: the bytecode verifier would load them (picocli.CommandLine alone is a large class).
 */
public final class AgentMain {
    static final Path VIRTIO_PORT = Path.of("/dev/virtio-ports", AgentProtocol.PORT_NAME);
    static final String LISTEN = "--listen";
    static final String CONFIG = "--config";

    private AgentMain() {}

    static String version() {
        String version = AgentMain.class.getPackage().getImplementationVersion();
        return version != null ? version : "development";
    }

    public static void main(String[] args) {
        LogLines.install();
        Map<String, String> serving = servingOptions(args);
        if (serving != null) {
            AgentService service = null;
            try {
                service = AgentService.prepare(
                        serving.get(LISTEN), serving.containsKey(CONFIG) ? Path.of(serving.get(CONFIG)) : null);
            } catch (AgentService.UsageException | InvalidPathException e) {
                // picocli says it as for any usage error, below
            }
            if (service != null) {
                System.exit(serve(service));
            }
        }
        System.exit(AgentCommand.run(args));
    }

    /** Serves as {@link AgentCommand#call} does and reports a failure as CliErrors does: exit code 1, the message. */
    private static int serve(AgentService service) {
        try {
            service.serve();
            return 0;
        } catch (Exception e) {
            System.err.println("memhygiene-agent: error: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (System.getenv("MEMHYGIENE_DEBUG") != null) {
                e.printStackTrace();
            }
            return CliErrors.EXIT_RUNTIME_ERROR;
        }
    }

    /**
     * {@code args} as --listen/--config values when they are nothing else (each at most once, as
     * {@code --name value} or {@code --name=value}); null when picocli must read them: anything else, a
     * value that could be an option or an @argument file, a repeated option, a missing value.
     */
    static Map<String, String> servingOptions(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            String value;
            int equals = name.indexOf('=');
            if (equals > 0) {
                value = name.substring(equals + 1);
                name = name.substring(0, equals);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return null;
            }
            if (!(name.equals(LISTEN) || name.equals(CONFIG))
                    || value.isEmpty()
                    || value.startsWith("-")
                    || value.startsWith("@")
                    || options.put(name, value) != null) {
                return null;
            }
        }
        return options;
    }
}
