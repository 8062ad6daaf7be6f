package org.memhygiene.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The suite's shared fixture, set up once per run: the host prepared by e2e/run.sh (lock, packages,
 * image, libvirtd), the meters, the guests ({@link Fleet}), the command under test and the results
 * every phase adds to. Closed, it destroys the guests left, writes the results (also when a phase
 * failed) and lets run.sh clean up.
 *
 * <p>System properties: {@code e2e.repo} (the repository; default: the parent of Maven's
 * {@code basedir}), {@code e2e.accel} ({@code auto}, {@code kvm} or {@code tcg}; default auto),
 * {@code e2e.updateDocs} ({@code true}: also write docs/RESULTS.md's generated section).
 */
final class RealVmFixture implements AutoCloseable {
    private static final List<String> ACCELERATORS = List.of("auto", "kvm", "tcg");

    private final Path repo;
    private final HostPreparation host;
    private final boolean updateDocs;
    private final HostMeters meters;
    private final MemhygieneCommand command;
    private final Fleet fleet;
    private final SuiteResults results = new SuiteResults();

    private RealVmFixture(Path repo, HostPreparation host, String accel, boolean updateDocs) {
        this.repo = repo;
        this.host = host;
        this.updateDocs = updateDocs;
        this.meters = new HostMeters();
        this.command = new MemhygieneCommand(repo);
        this.fleet = new Fleet(repo, host.image(), accel, command);
    }

    /** Prepares the host; where the suite cannot run, aborts (JUnit: skipped) with run.sh's reason. */
    static RealVmFixture start() throws Exception {
        Path repo = repo();
        String accel = System.getProperty("e2e.accel", "auto");
        if (!ACCELERATORS.contains(accel)) {
            throw new IllegalArgumentException(
                    "e2e.accel: expected one of " + ACCELERATORS + ", got \"" + accel + "\"");
        }
        String updateDocs = System.getProperty("e2e.updateDocs", "false");
        if (!updateDocs.equals("true") && !updateDocs.equals("false")) {
            throw new IllegalArgumentException("e2e.updateDocs: expected true or false, got \"" + updateDocs + "\"");
        }
        HostPreparation host = HostPreparation.start(repo);
        if (host.skipReason().isPresent()) {
            System.out.println("e2e: SKIPPED: " + host.skipReason().get());
            Assumptions.abort(host.skipReason().get());
        }
        try {
            return new RealVmFixture(repo, host, accel, updateDocs.equals("true"));
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    private static Path repo() {
        String repo = System.getProperty("e2e.repo");
        if (repo == null) {
            String basedir = System.getProperty("basedir");
            if (basedir == null) {
                throw new IllegalStateException(
                        "e2e.repo: not set (the repository's directory; Maven's basedir is not set either)");
            }
            repo = Path.of(basedir).resolve("..").toString();
        }
        Path dir = Path.of(repo).toAbsolutePath().normalize();
        if (!Files.isExecutable(dir.resolve("e2e/run.sh"))) {
            throw new IllegalStateException(
                    "e2e.repo: " + dir + " has no executable e2e/run.sh; expected the repository's directory");
        }
        return dir;
    }

    /** The repository the suite runs from (its scenarios, its launcher). */
    Path repository() {
        return repo;
    }

    HostMeters meters() {
        return meters;
    }

    Fleet fleet() {
        return fleet;
    }

    MemhygieneCommand command() {
        return command;
    }

    HostPreparation host() {
        return host;
    }

    /** Ends a timed span of the run (see {@link SuiteResults#lap}). */
    void lap(String name) {
        results.lap(name);
    }

    /** Sets up what phases share (guests booted and filled); a failure is reported and rethrown. */
    <T> T setUp(String what, Callable<T> setUp) throws Exception {
        try {
            return setUp.call();
        } catch (Exception e) {
            results.incomplete(what, e);
            results.lap(what + ": did not complete");
            throw e;
        }
    }

    /** Runs a phase and keeps its result for the report; a phase that throws is reported and rethrown. */
    <R extends PhaseResult> R measure(Phase<R> phase) throws Exception {
        try {
            R result = phase.run();
            results.add(result);
            return result;
        } catch (Exception e) {
            results.incomplete(phase.getClass().getSimpleName(), e);
            results.lap(phase.getClass().getSimpleName() + ": did not complete");
            throw e;
        }
    }

    /** Fails the calling test with every check of the result that did not hold, figures and all. */
    static void assertHeld(PhaseResult result) {
        List<String> failed =
                result.checks().stream().filter(c -> !c.held()).map(Check::text).toList();
        if (!failed.isEmpty()) {
            Assertions.fail(failed.size() + " of " + result.checks().size() + " checks failed:\n- "
                    + String.join("\n- ", failed));
        }
    }

    /** Destroys the guests still running (a group of phases is done with them). */
    void destroyGuests() {
        fleet.closeAll();
    }

    /** KSM stopped, then at this rate with zero pages on, then {@code run}. */
    static void setKsm(long pagesToScan, long sleepMillis, long run) {
        HostMeters.setKsm("run", 0);
        HostMeters.setKsm("pages_to_scan", pagesToScan);
        HostMeters.setKsm("sleep_millisecs", sleepMillis);
        HostMeters.setKsm("use_zero_pages", 1);
        HostMeters.setKsm("run", run);
    }

    /** Destroys the guests left, writes the results, then lets run.sh clean up and waits for it. */
    @Override
    public void close() throws IOException {
        try {
            fleet.closeAll();
            long seconds = results.seconds();
            String accelNote = fleet.accelNote() == null ? "no guest booted" : fleet.accelNote();
            String markdown = ResultsMarkdown.render(results, accelNote, manifest(), seconds);
            ResultsMarkdown.write(repo.resolve("bench/target/e2e/results.md"), markdown);
            results.summary(accelNote, seconds).forEach(System.out::println);
            if (updateDocs) {
                ResultsMarkdown.updateDocs(repo.resolve("docs/RESULTS.md"), markdown);
                log("docs/RESULTS.md updated");
            }
        } finally {
            host.close();
        }
    }

    private String manifest() {
        try {
            return String.join("; ", Files.readAllLines(host.image().resolve("manifest.txt")));
        } catch (Exception e) {
            return host.image().toString();
        }
    }

    static void log(String format, Object... args) {
        System.err.printf(
                "e2e %s %s%n", Instant.now().toString().substring(11, 19), String.format(Locale.ROOT, format, args));
    }
}
