package org.memhygiene.agent.posture;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.posture.GuestFindings;
import org.memhygiene.core.posture.SwapDevice;

/**
 * Reads what the guest already does to protect memory, as findings ({@link GuestFindings}; docs/POSTURE.md
 * lists every id).
 * The /proc, /sys and /boot roots are constructor arguments so tests can use trees of their own. A
 * file that is missing or unreadable never fails the probe: the check it feeds is skipped, or reported
 * as unknown.
 */
public final class PostureProbe {
    private final Path proc;
    private final Path sys;
    private final Path boot;

    public PostureProbe(Path procRoot, Path sysRoot, Path bootRoot) {
        this.proc = procRoot;
        this.sys = sysRoot;
        this.boot = bootRoot;
    }

    public static PostureProbe ofThisMachine() {
        return new PostureProbe(Path.of("/proc"), Path.of("/sys"), Path.of("/boot"));
    }

    public List<Finding> probe() {
        String cmdline = read(proc.resolve("cmdline")).orElse("");
        List<String> args = Arrays.asList(cmdline.strip().split("\\s+"));
        String release =
                read(proc.resolve("sys/kernel/osrelease")).map(String::strip).orElse("unknown");
        Optional<KernelConfig> config = kernelConfig(release);
        List<Finding> findings = new ArrayList<>();
        findings.add(GuestFindings.kernelVersion(release, proc.resolve("sys/kernel/osrelease") + ": " + release));
        wipeOnFree(args, config, findings);
        swap(findings);
        hibernation(args, findings);
        coreDumps(findings);
        secretMemory(release, config, findings);
        balloon(findings);
        return List.copyOf(findings);
    }

    /** init_on_free / init_on_alloc (Documentation/admin-guide/kernel-parameters.txt, mm/page_alloc.c). */
    private void wipeOnFree(List<String> args, Optional<KernelConfig> config, List<Finding> findings) {
        String evidence = proc.resolve("cmdline") + ": " + flag(args, "init_on_free")
                + config.map(c -> "; " + c.source() + ": CONFIG_INIT_ON_FREE_DEFAULT_ON="
                                + c.get("CONFIG_INIT_ON_FREE_DEFAULT_ON"))
                        .orElse("");
        boolean onFree = enabled(
                args,
                "init_on_free",
                config.map(c -> c.isYes("CONFIG_INIT_ON_FREE_DEFAULT_ON")).orElse(false));
        if (onFree) {
            findings.add(GuestFindings.initOnFreeOn(evidence));
        } else {
            findings.add(GuestFindings.initOnFreeOff(evidence));
        }
        boolean onAlloc = enabled(
                args,
                "init_on_alloc",
                config.map(c -> c.isYes("CONFIG_INIT_ON_ALLOC_DEFAULT_ON")).orElse(false));
        if (!onAlloc && !onFree) {
            findings.add(GuestFindings.initOnAllocOff(proc.resolve("cmdline") + ": " + flag(args, "init_on_alloc")));
        }
    }

    /** Swapped-out pages outlive the process on disk unless the swap device is encrypted or in RAM. */
    private void swap(List<Finding> findings) {
        Path swaps = proc.resolve("swaps");
        List<SwapDevice> devices = SwapDevice.read(proc, sys).orElse(List.of());
        for (SwapDevice swap : devices) {
            if (swap.kind() == SwapDevice.Kind.UNENCRYPTED) {
                findings.add(GuestFindings.swapUnencrypted(swap.device(), swaps + ": " + swap.line()));
            } else {
                findings.add(GuestFindings.swapProtected(swap.device(), swap.kind(), swaps + ": " + swap.line()));
            }
        }
        if (devices.isEmpty()) {
            findings.add(GuestFindings.swapNone(swaps + ": no devices"));
        }
        read(sys.resolve("module/zswap/parameters/enabled"))
                .map(String::strip)
                .filter(v -> v.equals("Y"))
                .ifPresent(v ->
                        findings.add(GuestFindings.zswapOn(sys.resolve("module/zswap/parameters/enabled") + ": Y")));
    }

    /** Hibernation writes all of RAM to disk (Documentation/power/swsusp.rst). */
    private void hibernation(List<String> args, List<Finding> findings) {
        Path state = sys.resolve("power/state");
        read(state)
                .filter(s -> Arrays.asList(s.strip().split("\\s+")).contains("disk"))
                .ifPresent(s -> findings.add(GuestFindings.hibernationAvailable(
                        state + ": " + s.strip() + "; " + proc.resolve("cmdline") + ": " + flag(args, "resume"))));
    }

    /** Core dumps copy a process's memory to disk (core(5), Documentation/admin-guide/sysctl/fs.rst). */
    private void coreDumps(List<Finding> findings) {
        Path patternFile = proc.resolve("sys/kernel/core_pattern");
        Path suidFile = proc.resolve("sys/fs/suid_dumpable");
        read(patternFile).map(String::strip).ifPresent(pattern -> {
            boolean disabled = pattern.isEmpty() || pattern.equals("|/bin/false") || pattern.equals("|/usr/bin/false");
            if (!disabled) {
                findings.add(GuestFindings.coreDumpsEnabled(
                        pattern.contains("systemd-coredump"), patternFile + ": " + pattern));
            }
        });
        read(suidFile)
                .map(String::strip)
                .filter(v -> !v.equals("0"))
                .ifPresent(v -> findings.add(GuestFindings.coreDumpsOfSetuid(v, suidFile + ": " + v)));
    }

    /** memfd_secret(2): Linux 5.14+, CONFIG_SECRETMEM; memory out of the kernel's direct map. */
    private void secretMemory(String release, Optional<KernelConfig> config, List<Finding> findings) {
        boolean newEnough = atLeast(release, 5, 14);
        Optional<Boolean> configured = config.map(c -> c.isYes("CONFIG_SECRETMEM"));
        if (!newEnough || configured.equals(Optional.of(false))) {
            findings.add(GuestFindings.memfdSecretUnavailable("kernel " + release
                    + config.map(c -> "; " + c.source() + ": CONFIG_SECRETMEM=" + c.get("CONFIG_SECRETMEM"))
                            .orElse("")));
        }
    }

    /** Free page reporting hands free memory back to the host without KSM (virtio-balloon, 5.7+). */
    private void balloon(List<Finding> findings) {
        Path driver = sys.resolve("bus/virtio/drivers/virtio_balloon");
        if (!Files.isDirectory(driver)) {
            findings.add(GuestFindings.balloonAbsent(driver + ": absent"));
            return;
        }
        Path order = sys.resolve("module/page_reporting/parameters/page_reporting_order");
        if (Files.exists(order)) {
            findings.add(GuestFindings.freePageReportingOn(
                    order + ": " + read(order).map(String::strip).orElse("?")));
        } else {
            findings.add(GuestFindings.freePageReportingOff(order + ": absent"));
        }
    }

    private static boolean atLeast(String release, int major, int minor) {
        String[] parts = release.split("[.-]");
        try {
            int ma = Integer.parseInt(parts[0]);
            int mi = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** A boolean kernel parameter: "x=1"/"x=on" turns it on, "x=0" off, absent means the config default. */
    private static boolean enabled(List<String> args, String name, boolean defaultOn) {
        boolean on = defaultOn;
        for (String arg : args) {
            if (arg.startsWith(name + "=")) {
                String value = arg.substring(name.length() + 1);
                on = value.equals("1") || value.equalsIgnoreCase("on") || value.equalsIgnoreCase("y");
            }
        }
        return on;
    }

    private static String flag(List<String> args, String name) {
        return args.stream()
                .filter(a -> a.startsWith(name + "="))
                .reduce((a, b) -> b)
                .orElse("no " + name + "=");
    }

    private record KernelConfig(String source, List<String> lines) {
        String get(String key) {
            return lines.stream()
                    .filter(l -> l.startsWith(key + "="))
                    .map(l -> l.substring(key.length() + 1))
                    .findFirst()
                    .orElse("not set");
        }

        boolean isYes(String key) {
            return get(key).equals("y");
        }
    }

    /** The running kernel's config: /proc/config.gz (CONFIG_IKCONFIG_PROC) or /boot/config-RELEASE. */
    private Optional<KernelConfig> kernelConfig(String release) {
        Path gz = proc.resolve("config.gz");
        if (Files.isReadable(gz)) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
                return Optional.of(new KernelConfig(
                        gz.toString(),
                        new String(in.readAllBytes(), StandardCharsets.UTF_8)
                                .lines()
                                .toList()));
            } catch (IOException e) {
                // Unreadable or not gzip: fall through to /boot.
            }
        }
        Path file = boot.resolve("config-" + release);
        return read(file)
                .map(text -> new KernelConfig(file.toString(), text.lines().toList()));
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
