package org.memhygiene.controller.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import org.memhygiene.controller.guestmemory.GuestMemoryMethod;
import org.memhygiene.controller.host.GuestMemorySettings;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.json.JsonInput;
import org.memhygiene.core.units.Durations;
import org.memhygiene.secret.SecretMemory;

/**
 * The daemon's configuration, /etc/memhygiene/memhygiene.yaml (controller/src/main/dist/memhygiene.yaml
 * documents every key with its default). Every key is optional.
 *
 * @param libvirtUri    which libvirt to manage
 * @param interval      time between two samples
 * @param agentTimeout  how long one VM's agent may take to answer
 * @param agentInterval time between two questions to the same agent (its figures are reused in between)
 * @param apiBind       the API's listen address (loopback unless a token is set)
 * @param apiPort       the API's port
 * @param apiTokenFile  a file holding the bearer token for state-changing API calls
 * @param dryRun        decide and explain, but change nothing (no KSM writes, no scrub requests)
 * @param historyPath   the history database (H2 adds .mv.db)
 * @param historyRetention how long samples are kept
 * @param historyInterval  the history's resolution: at most one recorded sample per interval
 * @param policyFile    the policy file (controller/src/main/dist/policy.yaml); empty: the adaptive policy's defaults
 * @param guestMemory   how the VMs' guest RAM is measured ({@code guest_memory.method}, {@code guest_memory.qemu_pid_dir})
 */
public record DaemonConfig(
        String libvirtUri,
        Duration interval,
        Duration agentTimeout,
        Duration agentInterval,
        String apiBind,
        int apiPort,
        Optional<Path> apiTokenFile,
        boolean dryRun,
        Path historyPath,
        Duration historyRetention,
        Duration historyInterval,
        Optional<Path> policyFile,
        GuestMemorySettings guestMemory) {

    public static final int DEFAULT_PORT = 9520;
    private static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    private static final Duration MAX_INTERVAL = Duration.ofHours(1);
    private static final Duration MAX_AGENT_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration MIN_RETENTION = Duration.ofMinutes(1);
    /** Ten years: H2 and the history's queries have no use for more. */
    private static final Duration MAX_RETENTION = Duration.ofDays(3650);
    /** A configuration file is a few hundred bytes; anything near this is not one. */
    private static final long MAX_FILE_BYTES = 1024 * 1024;

    private static final Set<String> KEYS = Set.of(
            "libvirt_uri",
            "interval_millis",
            "agent_timeout_millis",
            "agent_interval_millis",
            "api",
            "dry_run",
            "history",
            "policy_file",
            "guest_memory");
    private static final Set<String> API_KEYS = Set.of("bind", "port", "token_file");
    private static final Set<String> HISTORY_KEYS = Set.of("path", "retention_millis", "interval_millis");
    private static final Set<String> GUEST_MEMORY_KEYS = Set.of("method", "qemu_pid_dir");
    /** A bearer token is tens of bytes: a larger file is a mistake, and not worth locking memory for. */
    static final long MAX_TOKEN_BYTES = 4096;

    public DaemonConfig {
        if (interval.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException(
                    "interval_millis = " + interval.toMillis() + ": expected at least 100 ms");
        }
        if (agentTimeout.isZero() || agentTimeout.compareTo(interval.multipliedBy(10)) > 0) {
            throw new IllegalArgumentException("agent_timeout_millis = " + agentTimeout.toMillis()
                    + ": expected more than 0 and at most 10 intervals");
        }
        if (agentInterval.isNegative()) {
            throw new IllegalArgumentException(
                    "agent_interval_millis = " + agentInterval.toMillis() + ": expected 0 or more");
        }
        if (historyRetention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException(
                    "history.retention_millis = " + historyRetention.toMillis() + ": expected at least a minute");
        }
        if (historyInterval.isNegative()) {
            throw new IllegalArgumentException(
                    "history.interval_millis = " + historyInterval.toMillis() + ": expected 0 or more");
        }
        if (apiPort < 0 || apiPort > 65535) {
            throw new IllegalArgumentException("api.port = " + apiPort + ": expected 0 to 65535");
        }
    }

    /** A configuration whose guest memory is measured the daemon's default way. */
    public DaemonConfig(
            String libvirtUri,
            Duration interval,
            Duration agentTimeout,
            Duration agentInterval,
            String apiBind,
            int apiPort,
            Optional<Path> apiTokenFile,
            boolean dryRun,
            Path historyPath,
            Duration historyRetention,
            Duration historyInterval,
            Optional<Path> policyFile) {
        this(
                libvirtUri,
                interval,
                agentTimeout,
                agentInterval,
                apiBind,
                apiPort,
                apiTokenFile,
                dryRun,
                historyPath,
                historyRetention,
                historyInterval,
                policyFile,
                GuestMemorySettings.DAEMON);
    }

    public static DaemonConfig defaults() {
        return new DaemonConfig(
                LibvirtHost.DEFAULT_URI,
                Duration.ofSeconds(1),
                Duration.ofSeconds(2),
                Duration.ofSeconds(5),
                "127.0.0.1",
                DEFAULT_PORT,
                Optional.empty(),
                false,
                Path.of("/var/lib/memhygiene/history"),
                Duration.ofDays(7),
                Duration.ofSeconds(10),
                Optional.empty(),
                GuestMemorySettings.DAEMON);
    }

    /**
     * The token from {@link #apiTokenFile()} without the whitespace around it, read straight into secret
     * memory (secret-memory/README.md), which the caller closes. An empty, unreadable or oversized file is an
     * IllegalArgumentException, and so is one its group or others may
     * open; memory that cannot be locked (RLIMIT_MEMLOCK) an IllegalStateException.
     */
    public Optional<SecretMemory> apiToken() {
        return apiTokenFile.map(file -> {
            requirePrivate(file);
            try {
                return SecretMemory.readFile(file, SecretMemory.Trim.ASCII_WHITESPACE, MAX_TOKEN_BYTES);
            } catch (IOException e) {
                throw new IllegalArgumentException("api.token_file " + file + ": cannot read it: " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("api.token_file " + e.getMessage(), e);
            } catch (IllegalStateException e) {
                throw new IllegalStateException("api.token_file " + file + ": " + e.getMessage(), e);
            }
        });
    }

    /** A token its group or other users can read guards nothing: refused, with the command that fixes it. */
    private static void requirePrivate(Path file) {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("api.token_file " + file + ": cannot read it: " + e, e);
        }
        if (permissions.stream().anyMatch(p -> !p.name().startsWith("OWNER_"))) {
            throw new IllegalArgumentException("api.token_file " + file + " is open to its group or others ("
                    + PosixFilePermissions.toString(permissions) + "); make it private to its owner: chmod 600 "
                    + file);
        }
    }

    /** Reads {@code file}; every problem is an IllegalArgumentException starting with the file's path. */
    public static DaemonConfig load(Path file) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(
                        "larger than " + MAX_FILE_BYTES + " bytes: not a configuration file");
            }
            JsonNode root = Json.readTree(Files.readAllBytes(file), JsonInput.yaml());
            DaemonConfig d = defaults();
            if (root.isMissingNode() || root.isNull()) {
                return d;
            }
            requireKeys(root, KEYS, "");
            JsonNode api = root.path("api");
            if (!api.isMissingNode()) {
                requireKeys(api, API_KEYS, "api.");
            }
            JsonNode history = root.path("history");
            if (!history.isMissingNode()) {
                requireKeys(history, HISTORY_KEYS, "history.");
            }
            JsonNode guestMemory = root.path("guest_memory");
            if (!guestMemory.isMissingNode()) {
                requireKeys(guestMemory, GUEST_MEMORY_KEYS, "guest_memory.");
            }
            return new DaemonConfig(
                    text(root, "libvirt_uri", d.libvirtUri()),
                    millis(root, "interval_millis", d.interval(), MIN_INTERVAL, MAX_INTERVAL),
                    millis(root, "agent_timeout_millis", d.agentTimeout(), Duration.ofMillis(1), MAX_AGENT_TIMEOUT),
                    millis(root, "agent_interval_millis", d.agentInterval(), Duration.ZERO, Duration.ofDays(1)),
                    text(api, "bind", d.apiBind()),
                    api.has("port") ? integer(api.get("port"), "api.port") : d.apiPort(),
                    api.has("token_file") ? Optional.of(Path.of(text(api, "token_file", ""))) : Optional.empty(),
                    root.has("dry_run") ? bool(root.get("dry_run"), "dry_run") : d.dryRun(),
                    history.has("path") ? Path.of(text(history, "path", "")) : d.historyPath(),
                    millis(history, "history.retention_millis", d.historyRetention(), MIN_RETENTION, MAX_RETENTION),
                    millis(history, "history.interval_millis", d.historyInterval(), Duration.ZERO, Duration.ofDays(1)),
                    root.has("policy_file") ? Optional.of(Path.of(text(root, "policy_file", ""))) : Optional.empty(),
                    guestMemory(guestMemory, d.guestMemory()));
        } catch (JsonInput.MalformedInputException e) {
            throw new IllegalArgumentException(file + ": not YAML: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read it: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** guest_memory: {method: auto|pagemap|pagemap_scan|smaps_rollup|off, qemu_pid_dir: DIR}. */
    private static GuestMemorySettings guestMemory(JsonNode node, GuestMemorySettings defaults) {
        Optional<GuestMemoryMethod> method = defaults.method();
        // YAML 1.1 reads an unquoted off as false: the admin meant the word.
        if (node.has("method")
                && node.get("method").isBoolean()
                && !node.get("method").asBoolean()) {
            method = Optional.empty();
        } else if (node.has("method")) {
            String text = text(node, "method", "");
            try {
                method = text.equals("off") ? Optional.empty() : Optional.of(GuestMemoryMethod.parse(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "guest_memory.method = " + e.getMessage().replace("]", ", off]"), e);
            }
        }
        Optional<Path> pidDir =
                node.has("qemu_pid_dir") ? Optional.of(Path.of(text(node, "qemu_pid_dir", ""))) : defaults.qemuPidDir();
        return new GuestMemorySettings(method, defaults.budget(), pidDir);
    }

    private static void requireKeys(JsonNode node, Set<String> keys, String prefix) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(
                    (prefix.isEmpty() ? "the file" : prefix.substring(0, prefix.length() - 1))
                            + ": expected a mapping with the keys "
                            + keys.stream().sorted().toList());
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!keys.contains(name)) {
                throw new IllegalArgumentException("unknown key \"" + prefix + name + "\"; expected one of "
                        + keys.stream().sorted().map(k -> prefix + k).toList());
            }
        }
    }

    private static String text(JsonNode node, String key, String otherwise) {
        JsonNode value = node.get(key);
        if (value == null) {
            return otherwise;
        }
        if (!value.isTextual() || value.asText().isBlank()) {
            throw new IllegalArgumentException(key + " = " + value + ": expected a non-empty string");
        }
        return value.asText();
    }

    /**
     * A duration of {@code node} at the last part of {@code key}: a whole number of milliseconds or text
     * with a unit ("5s"), from {@code min} to {@code max}. Checked here, before anything else sees it, so
     * that a number too large for a long is an error naming its key, not a wrapped value that another
     * key's check then trips over.
     */
    private static Duration millis(JsonNode node, String key, Duration otherwise, Duration min, Duration max) {
        JsonNode value = node.get(key.substring(key.lastIndexOf('.') + 1));
        if (value == null) {
            return otherwise;
        }
        String expected = "expected " + min.toMillis() + " to " + max.toMillis() + " milliseconds, e.g. 1000 or 1s";
        Duration duration;
        if (value.isIntegralNumber() && value.canConvertToLong()) {
            duration = Duration.ofMillis(value.asLong());
        } else if (value.isIntegralNumber()) {
            throw new IllegalArgumentException(key + " = " + value + ": " + expected);
        } else if (value.isTextual()) {
            try {
                duration = Durations.parse(value.asText(), "ms");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(key + " = " + value + ": " + e.getMessage(), e);
            }
        } else {
            throw new IllegalArgumentException(key + " = " + value + ": " + expected);
        }
        if (duration.compareTo(min) < 0 || duration.compareTo(max) > 0) {
            throw new IllegalArgumentException(key + " = " + value + ": " + expected);
        }
        return duration;
    }

    private static int integer(JsonNode value, String key) {
        if (!value.isInt()) {
            throw new IllegalArgumentException(key + " = " + value + ": expected a whole number");
        }
        return value.asInt();
    }

    private static boolean bool(JsonNode value, String key) {
        if (!value.isBoolean()) {
            throw new IllegalArgumentException(key + " = " + value + ": expected true or false");
        }
        return value.asBoolean();
    }
}
