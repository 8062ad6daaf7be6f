package org.memhygiene.controller.libvirt;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Finds the QEMU process of a running domain. First the pid file libvirt's QEMU driver keeps
 * ({@code <name>.pid} in its state directory, see https://libvirt.org/drvqemu.html#driver-instances),
 * checked against the process's command line because a pid file can outlive its process and the pid
 * be reused; else a scan of {@code /proc/*}{@code /cmdline} for QEMU's {@code -name guest=<name>,...}
 * argument, which libvirt always passes (commas in the name doubled, as QEMU's option syntax wants).
 */
public final class QemuProcessLocator {
    public static final Path SYSTEM_PID_DIR = Path.of("/run/libvirt/qemu");

    private final Path pidDir;
    private final Path procRoot;

    public QemuProcessLocator(Path pidDir, Path procRoot) {
        this.pidDir = pidDir;
        this.procRoot = procRoot;
    }

    /**
     * The pid directory for a qemu URI: /run/libvirt/qemu for {@code qemu:///system},
     * $XDG_RUNTIME_DIR/libvirt/qemu/run for {@code qemu:///session}; empty for remote and other URIs,
     * whose processes are not on this machine.
     */
    public static Optional<Path> pidDirFor(String uri, Map<String, String> environment) {
        URI parsed = URI.create(uri);
        if (!"qemu".equals(parsed.getScheme())
                || (parsed.getHost() != null && !parsed.getHost().isEmpty())) {
            return Optional.empty();
        }
        return switch (parsed.getPath()) {
            case "/system" -> Optional.of(SYSTEM_PID_DIR);
            case "/session" ->
                Optional.ofNullable(environment.get("XDG_RUNTIME_DIR"))
                        .map(dir -> Path.of(dir, "libvirt", "qemu", "run"));
            default -> Optional.empty();
        };
    }

    /** The pid of the domain's QEMU process, or empty when none runs. */
    public OptionalInt find(String domainName) {
        OptionalInt fromPidFile = readPidFile(domainName);
        if (fromPidFile.isPresent() && isQemuOf(fromPidFile.getAsInt(), domainName)) {
            return fromPidFile;
        }
        return scan(domainName);
    }

    /** Whether process {@code pid} still exists (its /proc directory: one stat, no read). */
    public boolean running(int pid) {
        return Files.isDirectory(procRoot.resolve(Integer.toString(pid)));
    }

    private OptionalInt readPidFile(String domainName) {
        try {
            return OptionalInt.of(Integer.parseInt(
                    Files.readString(pidDir.resolve(domainName + ".pid")).strip()));
        } catch (IOException | NumberFormatException e) {
            // No pid file (domain not running, session without one) or a half-written one: scan instead.
            return OptionalInt.empty();
        }
    }

    private OptionalInt scan(String domainName) {
        try (DirectoryStream<Path> entries =
                Files.newDirectoryStream(procRoot, e -> isPid(e.getFileName().toString()))) {
            for (Path entry : entries) {
                int pid = Integer.parseInt(entry.getFileName().toString());
                if (isQemuOf(pid, domainName)) {
                    return OptionalInt.of(pid);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + procRoot + ": " + e.getMessage(), e);
        }
        return OptionalInt.empty();
    }

    /** Whether the process's argv holds {@code -name guest=<name>} or {@code -name guest=<name>,...}. */
    boolean isQemuOf(int pid, String domainName) {
        List<String> argv = cmdline(pid);
        String guest = "guest=" + domainName.replace(",", ",,");
        for (int i = 0; i + 1 < argv.size(); i++) {
            if ("-name".equals(argv.get(i))) {
                String value = argv.get(i + 1);
                if (value.equals(guest) || value.startsWith(guest + ",") && !value.startsWith(guest + ",,")) {
                    return true;
                }
            }
        }
        return false;
    }

    private List<String> cmdline(int pid) {
        try {
            String text = new String(
                    Files.readAllBytes(procRoot.resolve(Integer.toString(pid)).resolve("cmdline")),
                    StandardCharsets.UTF_8);
            return Arrays.asList(text.split("\0"));
        } catch (IOException e) {
            // The process ended between listing and reading: not ours.
            return List.of();
        }
    }

    private static boolean isPid(String name) {
        return !name.isEmpty() && name.length() <= 10 && name.chars().allMatch(Character::isDigit);
    }
}
