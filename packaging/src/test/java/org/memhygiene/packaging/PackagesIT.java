package org.memhygiene.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.memhygiene.agent.AgentCommand;
import org.memhygiene.cli.MemhygieneCli;
import picocli.CommandLine.Model.CommandSpec;

/** The built packages: their contents against the command models, lintian, and the install test. */
class PackagesIT {
    private static final Path TARGET = Path.of(System.getProperty("deb.dir", "target"));
    private static final String VERSION = System.getProperty("deb.version", "0.1.0~SNAPSHOT");
    private static final Path HOST_DEB = TARGET.resolve("memhygiene_" + VERSION + "_all.deb");
    private static final Path AGENT_DEB = TARGET.resolve("memhygiene-agent_" + VERSION + "_all.deb");

    @Test
    void everyCommandHasItsManPageAndTheLaunchersTheUnitsRunAreInThePackages() throws Exception {
        List<String> host = contents(HOST_DEB);
        List<String> agent = contents(AGENT_DEB);
        for (CommandSpec spec : ManPages.pages(MemhygieneCli.commandLine().getCommandSpec())) {
            assertTrue(
                    host.contains("./usr/share/man/man1/" + spec.qualifiedName("-") + ".1.gz"),
                    "man page of " + spec.qualifiedName());
        }
        for (CommandSpec spec : ManPages.pages(AgentCommand.commandLine().getCommandSpec())) {
            assertTrue(
                    agent.contains("./usr/share/man/man8/" + spec.qualifiedName("-") + ".8.gz"),
                    "man page of " + spec.qualifiedName());
        }
        assertTrue(host.contains("./usr/bin/memhygiene"), "the unit's ExecStart=/usr/bin/memhygiene");
        assertTrue(agent.contains("./usr/sbin/memhygiene-agent"), "the unit's ExecStart=/usr/sbin/memhygiene-agent");
        assertTrue(
                host.contains("./usr/share/memhygiene/lib/memhygiene-cli.jar"),
                "the launcher's lib/memhygiene-cli.jar");
        assertFalse(host.stream().anyMatch(path -> path.contains("javafx")), "JavaFX stays out of the host package");
        assertTrue(host.contains("./usr/share/bash-completion/completions/memhygiene"));
        assertTrue(agent.contains("./usr/share/bash-completion/completions/memhygiene-agent"));
    }

    /** Every library a package carries is named, with its license, in the copyright file (not only by its catch-all stanza). */
    @Test
    void everyBundledLibraryHasACopyrightStanza() throws Exception {
        List<Pattern> stanzas = filesStanzas(Files.readString(Path.of("src/deb/copyright")));
        List<String> jars = new ArrayList<>(contents(HOST_DEB));
        jars.addAll(contents(AGENT_DEB));
        List<String> uncovered = jars.stream()
                .filter(path -> path.endsWith(".jar") && !path.contains("/memhygiene-"))
                .map(path -> path.substring(2))
                .filter(path ->
                        stanzas.stream().noneMatch(glob -> glob.matcher(path).matches()))
                .toList();
        assertEquals(List.of(), uncovered, "jars without a Files: stanza in packaging/src/deb/copyright");
    }

    @Test
    void lintianFindsNothingButTheJustifiedOverrides() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/lintian")), "lintian is not installed (.ci/run installs it)");
        Run lintian = run(
                List.of(
                        "lintian",
                        "--pedantic",
                        "--info",
                        "--fail-on",
                        "error,warning,info,pedantic",
                        HOST_DEB.toString(),
                        AGENT_DEB.toString()),
                10);
        System.out.println("lintian --pedantic --info: exit " + lintian.exitCode() + "\n" + lintian.output());
        assertEquals(0, lintian.exitCode(), lintian.output());
        assertFalse(lintian.output().lines().anyMatch(line -> line.matches("^[EWIPX]: .*")), lintian.output());
    }

    /** packaging/install-test.sh: install, run, remove and purge on a clean Debian 12 chroot (root only). */
    @Test
    void installsRunsAndPurgesCleanlyOnACleanDebian12() throws Exception {
        Assumptions.assumeFalse(Boolean.getBoolean("deb.install.skip"), "-Ddeb.install.skip");
        Run test = run(List.of("bash", "install-test.sh", TARGET.toString()), 30);
        System.out.println(test.output());
        Assumptions.assumeTrue(
                test.exitCode() != 77,
                () -> test.output().lines().filter(l -> l.contains("SKIPPED")).collect(Collectors.joining()));
        assertEquals(0, test.exitCode(), "install-test.sh failed:\n" + test.output());
        assertTrue(test.output().contains("install-test: PASSED"), test.output());
    }

    private static List<String> contents(Path deb) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/dpkg-deb")), "dpkg-deb is not installed");
        assertTrue(Files.isRegularFile(deb), deb + " was not built");
        Run names = run(List.of("sh", "-c", "dpkg-deb --fsys-tarfile \"$0\" | tar -t", deb.toString()), 1);
        assertEquals(0, names.exitCode(), names.output());
        return names.output()
                .lines()
                .map(name -> name.endsWith("/") ? name.substring(0, name.length() - 1) : name)
                .toList();
    }

    /** The Files: globs of a DEP-5 copyright file, all but the catch-all "*". */
    static List<Pattern> filesStanzas(String copyright) {
        List<Pattern> globs = new ArrayList<>();
        boolean inFiles = false;
        for (String line : copyright.split("\n")) {
            if (line.startsWith("Files:")) {
                inFiles = true;
                line = line.substring("Files:".length());
            } else if (!line.startsWith(" ")) {
                inFiles = false;
            }
            if (inFiles) {
                Arrays.stream(line.trim().split("\\s+"))
                        .filter(glob -> !glob.isEmpty() && !glob.equals("*"))
                        .map(glob -> Pattern.compile(Arrays.stream(glob.split("\\*", -1))
                                .map(Pattern::quote)
                                .collect(Collectors.joining(".*"))))
                        .forEach(globs::add);
            }
        }
        return globs;
    }

    private record Run(int exitCode, String output) {}

    private static Run run(List<String> command, int timeoutMinutes) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(command + " took longer than " + timeoutMinutes + " min");
        }
        return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
