package org.memhygiene.core.ksm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.memhygiene.core.host.HostNotAvailableException;
import org.memhygiene.core.host.HostRefusedException;
import org.memhygiene.core.linux.Errno;

/**
 * Reads and writes the host's KSM through sysfs (https://docs.kernel.org/admin-guide/mm/ksm.html): the
 * one reader and writer of /sys/kernel/mm/ksm, for the controller and the simulator's fidelity harness.
 * The root is a constructor argument so tests can point at a tree of their own. Failures are the host
 * backend's typed errors: {@link HostNotAvailableException} when KSM or a knob is not there,
 * {@link HostRefusedException} when a change is refused.
 */
public final class KsmSysfs {
    public static final Path DEFAULT_ROOT = Path.of("/sys/kernel/mm/ksm");
    private static final int SETTLE_ATTEMPTS = 20;

    private final Path root;
    private final Clock clock;
    private final long pageSizeBytes;

    public KsmSysfs(Path root, Clock clock, long pageSizeBytes) {
        this.root = root;
        this.clock = clock;
        this.pageSizeBytes = pageSizeBytes;
    }

    public Path root() {
        return root;
    }

    /** True when the directory exists, i.e. the kernel has CONFIG_KSM. */
    public boolean available() {
        return Files.isDirectory(root);
    }

    /** Every file under the root, parsed; see {@link KsmStats} for absent and unreadable files. */
    public KsmStats read() {
        Map<String, String> text = new HashMap<>();
        Map<String, String> errors = new HashMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(root)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                try {
                    text.put(name, readBounded(file));
                } catch (NoSuchFileException e) {
                    // Gone between listing and reading: absent, like a file the kernel lacks.
                } catch (IOException e) {
                    errors.put(name, Errno.describe(e));
                }
            }
        } catch (NoSuchFileException e) {
            throw new HostNotAvailableException(
                    "KSM is not available: " + root + " does not exist (is the kernel built with CONFIG_KSM?)", e);
        } catch (IOException e) {
            throw new HostNotAvailableException("cannot list " + root + ": " + Errno.describe(e), e);
        }
        return KsmText.parse(text, errors);
    }

    /**
     * A sysfs attribute is at most one page (the kernel's show() buffer), so anything longer is not a
     * KSM file: reading stops there instead of trusting the file (a symlink to /dev/zero never ends).
     */
    private String readBounded(Path file) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) pageSizeBytes + 1);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (buffer.hasRemaining() && channel.read(buffer) > 0) {
                // keep reading: sysfs may return the text in more than one read
            }
        }
        if (!buffer.hasRemaining()) {
            throw new IOException("longer than " + pageSizeBytes + " bytes, not a KSM sysfs file");
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
    }

    /**
     * {@link #read()}, again until two reads in a row are the same: ksmd may run a batch, or end a full scan,
     * while the files are read one by one, and a comparison with another run (the fidelity harness) must not
     * see two states mixed. Comparing pages_scanned alone before and after was not enough: the end of a full
     * scan changes pages_unshared and full_scans without scanning a page (a CI run of FidelityTest read
     * pages_unshared 26 where the whole state had 81). Gives up after {@value #SETTLE_ATTEMPTS} attempts and
     * returns the last read.
     */
    public KsmStats readSettled() {
        KsmStats previous = read();
        for (int attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
            KsmStats now = read();
            if (now.equals(previous)) {
                return now;
            }
            previous = now;
        }
        return previous;
    }

    public KsmSample sample() {
        long nanos = System.nanoTime();
        KsmStats stats = read();
        return new KsmSample(clock.instant(), nanos, pageSizeBytes, stats);
    }

    /** What a knob holds now, as text the knob accepts back (advisor_mode as its selected word). */
    public Map<KsmKnob, String> currentValues(Iterable<KsmKnob> knobs) {
        KsmStats stats = read();
        Map<KsmKnob, String> values = new EnumMap<>(KsmKnob.class);
        for (KsmKnob knob : knobs) {
            valueOf(stats, knob).ifPresent(v -> values.put(knob, v));
        }
        return values;
    }

    /**
     * Writes every value, or none: all files are checked and opened for writing before the first
     * write, and if the kernel refuses a value, the values already written are put back.
     *
     * @return the changes, in the order they were written
     */
    public List<KsmChange> apply(KsmSettings settings) {
        if (!available()) {
            throw new HostNotAvailableException(
                    "KSM is not available: " + root + " does not exist (is the kernel built with CONFIG_KSM?)");
        }
        KsmStats before = read();
        List<Map.Entry<KsmKnob, String>> writes = settings.inWriteOrder();
        List<KsmChange> changes = new ArrayList<>();
        for (Map.Entry<KsmKnob, String> write : writes) {
            KsmKnob knob = write.getKey();
            Optional<String> current = valueOf(before, knob);
            if (current.isEmpty()) {
                throw new HostNotAvailableException(
                        before.unreadableFiles().containsKey(knob.fileName())
                                ? "cannot read " + root.resolve(knob.fileName()) + ": "
                                        + before.unreadableFiles().get(knob.fileName())
                                : "this kernel has no KSM knob " + knob.fileName() + " ("
                                        + root.resolve(knob.fileName()) + " does not exist)");
            }
            changes.add(new KsmChange(knob, current.get(), write.getValue()));
        }
        KsmWriteRules.check(
                settings, knob -> valueOf(before, knob), before.pagesShared().orElse(0));

        // Open every file before the first write, so a permission or read-only fault changes nothing.
        // Opening does not truncate: on a plain file (a test tree) that would already be a change.
        for (KsmChange change : changes) {
            try (FileChannel ignored = open(change.knob(), StandardOpenOption.WRITE)) {
                // only checking that it opens for writing
            } catch (IOException e) {
                throw new HostRefusedException(
                        "cannot close " + root.resolve(change.knob().fileName()) + ": " + Errno.describe(e)
                                + " (nothing was changed)",
                        e);
            }
        }
        List<KsmChange> written = new ArrayList<>();
        for (KsmChange change : changes) {
            try (FileChannel channel =
                    open(change.knob(), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                write(channel, change.after());
                written.add(change);
            } catch (IOException | HostRefusedException e) {
                String rollback = rollBack(written);
                throw new HostRefusedException(
                        "the kernel refused " + change.knob().fileName() + "="
                                + change.after() + " ("
                                + (e instanceof IOException io ? Errno.describe(io) : e.getMessage())
                                + ")"
                                + hint(change.knob()) + "; " + rollback,
                        e);
            }
        }
        return List.copyOf(changes);
    }

    private FileChannel open(KsmKnob knob, StandardOpenOption... options) {
        Path file = root.resolve(knob.fileName());
        try {
            return FileChannel.open(file, options);
        } catch (AccessDeniedException e) {
            throw new HostRefusedException(
                    "permission denied writing " + file + ": changing KSM knobs needs root (nothing was changed)", e);
        } catch (FileSystemException e) {
            if (e.getReason() != null && e.getReason().contains("Read-only file system")) {
                throw new HostRefusedException(
                        file + " is on a read-only file system (is /sys mounted read-only,"
                                + " e.g. in a container?); nothing was changed",
                        e);
            }
            throw new HostRefusedException(
                    "cannot open " + file + " for writing: " + Errno.describe(e) + " (nothing was changed)", e);
        } catch (IOException e) {
            throw new HostRefusedException(
                    "cannot open " + file + " for writing: " + Errno.describe(e) + " (nothing was changed)", e);
        }
    }

    private static void write(FileChannel channel, String value) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap((value + "\n").getBytes(StandardCharsets.US_ASCII));
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    private String rollBack(List<KsmChange> written) {
        if (written.isEmpty()) {
            return "nothing was changed";
        }
        List<String> failures = new ArrayList<>();
        for (int i = written.size() - 1; i >= 0; i--) {
            KsmChange change = written.get(i);
            try (FileChannel channel = FileChannel.open(
                    root.resolve(change.knob().fileName()),
                    StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                write(channel, change.before());
            } catch (IOException e) {
                failures.add(change.knob().fileName() + "=" + change.before() + " (" + Errno.describe(e) + ")");
            }
        }
        List<String> names = written.stream()
                .map(c -> c.knob().fileName() + "=" + c.before())
                .toList();
        return failures.isEmpty()
                ? "put back " + String.join(", ", names)
                : "could not put back " + String.join(", ", failures);
    }

    private static String hint(KsmKnob knob) {
        return switch (knob) {
            case MERGE_ACROSS_NODES, MAX_PAGE_SHARING ->
                ": it changes only while no pages are shared; unmerge first with run=2";
            case PAGES_TO_SCAN -> ": the kernel refuses it while advisor_mode=scan-time";
            default -> "";
        };
    }

    static Optional<String> valueOf(KsmStats stats, KsmKnob knob) {
        if (knob == KsmKnob.ADVISOR_MODE) {
            return stats.advisorMode();
        }
        OptionalLong number = switch (knob) {
            case RUN -> stats.run();
            case PAGES_TO_SCAN -> stats.pagesToScan();
            case SLEEP_MILLISECS -> stats.sleepMillisecs();
            case MAX_PAGE_SHARING -> stats.maxPageSharing();
            case MERGE_ACROSS_NODES -> stats.mergeAcrossNodes();
            case USE_ZERO_PAGES -> stats.useZeroPages();
            case SMART_SCAN -> stats.smartScan();
            case STABLE_NODE_CHAINS_PRUNE_MILLISECS -> stats.stableNodeChainsPruneMillisecs();
            case ADVISOR_MAX_CPU -> stats.advisorMaxCpuPercent();
            case ADVISOR_MIN_PAGES_TO_SCAN -> stats.advisorMinPagesToScan();
            case ADVISOR_MAX_PAGES_TO_SCAN -> stats.advisorMaxPagesToScan();
            case ADVISOR_TARGET_SCAN_TIME -> stats.advisorTargetScanTimeSeconds();
            case ADVISOR_MODE -> OptionalLong.empty();
        };
        return number.isPresent() ? Optional.of(Long.toString(number.getAsLong())) : Optional.empty();
    }
}
