package org.memhygiene.agent;

import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.agent.scrub.ScrubPolicyFields;
import org.memhygiene.core.json.JsonInput;
import org.memhygiene.core.json.PlainJson;

/**
 * /etc/memhygiene/agent.yaml (guest-agent/src/main/dist/agent.yaml documents every key): where to serve
 * and the scrub policy. Every key is optional; a missing file is an error only when it was named. Read
 * with the project's one strict reader ({@link JsonInput}): a key given twice, a second document or bytes
 * that are not UTF-8 are errors. Jackson's streaming API only (no databind, see PlainJson); the YAML
 * parser is loaded only when a file is read.
 *
 * @param listen where to serve: the virtio-serial device path, unix:PATH or tcp:127.0.0.1:PORT
 * @param scrub  the scrub settings, {@link ScrubConfig#defaults()} with the file's scrub section applied
 */
public record AgentConfig(String listen, ScrubConfig scrub) {
    /** The environment variable memhygiene-agent.service sets to the file's path. */
    public static final String ENVIRONMENT_VARIABLE = "MEMHYGIENE_AGENT_CONFIG";

    private static final Set<String> KEYS = Set.of("listen", "scrub");
    /** A config file is a few hundred bytes; anything near this is not one. */
    private static final long MAX_FILE_BYTES = 1024 * 1024;

    public static AgentConfig defaults() {
        return new AgentConfig(AgentMain.VIRTIO_PORT.toString(), ScrubConfig.defaults());
    }

    /** Reads {@code file}; every problem is an IllegalArgumentException that starts with the file's path. */
    public static AgentConfig load(Path file) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException("larger than " + MAX_FILE_BYTES + " bytes");
            }
            Object parsed;
            try (JsonParser parser = JsonInput.yaml().createParser(JsonInput.utf8(Files.readAllBytes(file)))) {
                parsed = JsonInput.readDocument(parser);
            }
            if (parsed == null) {
                return defaults(); // an empty file, or only comments
            }
            if (!(parsed instanceof Map<?, ?> root)) {
                throw new IllegalArgumentException("expected a mapping with the keys " + KEYS);
            }
            for (Object name : root.keySet()) {
                if (!KEYS.contains(name)) {
                    throw new IllegalArgumentException("unknown key \"" + name + "\"; expected " + KEYS);
                }
            }
            Object listen = root.get("listen");
            if (root.containsKey("listen") && !(listen instanceof String)) {
                throw new IllegalArgumentException("listen = " + PlainJson.toJson(listen) + ": expected a device path,"
                        + " unix:PATH or tcp:127.0.0.1:PORT");
            }
            return new AgentConfig(
                    listen == null ? defaults().listen() : (String) listen,
                    ScrubPolicyFields.apply(ScrubConfig.defaults(), root.get("scrub"), ScrubPolicyFields.Units.HUMAN));
        } catch (JsonInput.MalformedInputException e) {
            throw new IllegalArgumentException(file + ": not YAML: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read it: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }
}
