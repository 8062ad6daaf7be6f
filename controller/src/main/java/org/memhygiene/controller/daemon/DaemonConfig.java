package org.memhygiene.controller.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.memhygiene.controller.guestmemory.GuestMemoryMethod;
import org.memhygiene.controller.host.GuestMemorySettings;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.core.config.ConfigSection;
import org.memhygiene.core.linux.Errno;
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
    private static final System.Logger LOG = System.getLogger(DaemonConfig.class.getName());
    private static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    private static final Duration MAX_INTERVAL = Duration.ofHours(1);
    private static final Duration MAX_AGENT_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration MIN_RETENTION = Duration.ofMinutes(1);
    /** Ten years: H2 and the history's queries have no use for more. */
    private static final Duration MAX_RETENTION = Duration.ofDays(3650);

    private static final List<String> KEYS = List.of(
            "libvirt_uri",
            "interval",
            "agent_timeout",
            "agent_interval",
            "api",
            "dry_run",
            "history",
            "policy_file",
            "guest_memory",
            // read with a deprecation warning (ConfigSection.renamed): the names before they lost "_millis"
            "interval_millis",
            "agent_timeout_millis",
            "agent_interval_millis");
    private static final List<String> API_KEYS = List.of("bind", "port", "token_file");
    private static final List<String> HISTORY_KEYS =
            List.of("path", "retention", "interval", "retention_millis", "interval_millis");
    private static final List<String> GUEST_MEMORY_KEYS = List.of("method", "qemu_pid_dir");
    /** A bearer token is tens of bytes: a larger file is a mistake, and not worth locking memory for. */
    static final long MAX_TOKEN_BYTES = 4096;

    public DaemonConfig {
        if (interval.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException("interval = " + interval.toMillis() + "ms: expected at least 100ms");
        }
        if (agentTimeout.isZero() || agentTimeout.compareTo(interval.multipliedBy(10)) > 0) {
            throw new IllegalArgumentException(
                    "agent_timeout = " + agentTimeout.toMillis() + "ms: expected more than 0 and at most 10 intervals");
        }
        if (agentInterval.isNegative()) {
            throw new IllegalArgumentException(
                    "agent_interval = " + agentInterval.toMillis() + "ms: expected 0 or more");
        }
        if (historyRetention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException(
                    "history.retention = " + historyRetention.toMillis() + "ms: expected at least a minute");
        }
        if (historyInterval.isNegative()) {
            throw new IllegalArgumentException(
                    "history.interval = " + historyInterval.toMillis() + "ms: expected 0 or more");
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
                throw new IllegalArgumentException(
                        "api.token_file " + file + ": cannot read it: " + Errno.describe(e), e);
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
            throw new IllegalArgumentException("api.token_file " + file + ": cannot read it: " + Errno.describe(e), e);
        }
        if (permissions.stream().anyMatch(p -> !p.name().startsWith("OWNER_"))) {
            throw new IllegalArgumentException("api.token_file " + file + " is open to its group or others ("
                    + PosixFilePermissions.toString(permissions) + "); make it private to its owner: chmod 600 "
                    + file);
        }
    }

    /**
     * Reads {@code file}; every problem is an IllegalArgumentException starting with the file's path. A key
     * under its old name (interval_millis) is read, and its deprecation warning logged.
     */
    public static DaemonConfig load(Path file) {
        return load(file, warning -> LOG.log(System.Logger.Level.WARNING, file + ": " + warning));
    }

    /** As {@link #load(Path)}, each deprecation warning to {@code warnings}. */
    public static DaemonConfig load(Path file, Consumer<String> warnings) {
        try {
            ConfigSection root = ConfigSection.read(file, KEYS, warnings);
            ConfigSection api = root.section("api", API_KEYS);
            ConfigSection history = root.section("history", HISTORY_KEYS);
            DaemonConfig d = defaults();
            return new DaemonConfig(
                    root.text("libvirt_uri").orElse(d.libvirtUri()),
                    root.renamed("interval", "interval_millis", d.interval(), MIN_INTERVAL, MAX_INTERVAL),
                    root.renamed(
                            "agent_timeout",
                            "agent_timeout_millis",
                            d.agentTimeout(),
                            Duration.ofMillis(1),
                            MAX_AGENT_TIMEOUT),
                    root.renamed(
                            "agent_interval",
                            "agent_interval_millis",
                            d.agentInterval(),
                            Duration.ZERO,
                            Duration.ofDays(1)),
                    api.text("bind").orElse(d.apiBind()),
                    api.port("port", d.apiPort()),
                    api.text("token_file").map(Path::of),
                    root.bool("dry_run", d.dryRun()),
                    history.text("path").map(Path::of).orElse(d.historyPath()),
                    history.renamed(
                            "retention", "retention_millis", d.historyRetention(), MIN_RETENTION, MAX_RETENTION),
                    history.renamed(
                            "interval", "interval_millis", d.historyInterval(), Duration.ZERO, Duration.ofDays(1)),
                    root.text("policy_file").map(Path::of),
                    guestMemory(root.section("guest_memory", GUEST_MEMORY_KEYS), d.guestMemory()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** guest_memory: {method: auto|pagemap|pagemap_scan|smaps_rollup|off, qemu_pid_dir: DIR}. */
    private static GuestMemorySettings guestMemory(ConfigSection section, GuestMemorySettings defaults) {
        Optional<GuestMemoryMethod> method = defaults.method();
        Optional<Object> given = section.value("method");
        // YAML 1.1 reads an unquoted off as false: the admin meant the word.
        if (given.isPresent() && given.get().equals(Boolean.FALSE)) {
            method = Optional.empty();
        } else if (given.isPresent()) {
            String text = section.text("method").orElseThrow();
            try {
                method = text.equals("off") ? Optional.empty() : Optional.of(GuestMemoryMethod.parse(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "guest_memory.method = " + e.getMessage().replace("]", ", off]"), e);
            }
        }
        Optional<Path> pidDir = section.text("qemu_pid_dir").map(Path::of).or(defaults::qemuPidDir);
        return new GuestMemorySettings(method, defaults.budget(), pidDir);
    }
}
