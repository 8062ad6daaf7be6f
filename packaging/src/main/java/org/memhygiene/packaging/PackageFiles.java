package org.memhygiene.packaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.asciidoctor.Asciidoctor;
import org.memhygiene.agent.AgentCommand;
import org.memhygiene.cli.MemhygieneCli;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Writes the files of the Debian packages that the build makes rather than copies (packaging/pom.xml runs
 * it in prepare-package; jdeb packs the result): the man pages and bash completion of {@code memhygiene}
 * and {@code memhygiene-agent} from their picocli command models, the systemd units with ExecStart= on the
 * packaged launcher, and the Debian changelogs.
 *
 * <p>Usage: {@code PackageFiles SOURCE_ROOT OUT_DIR DEBIAN_VERSION OUTPUT_TIMESTAMP MAINTAINER}; writes
 * OUT_DIR/memhygiene/... and OUT_DIR/memhygiene-agent/..., each laid out as installed.
 */
public final class PackageFiles {
    static final String HOST = "memhygiene";
    static final String AGENT = "memhygiene-agent";

    private PackageFiles() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            throw new IllegalArgumentException(
                    "usage: PackageFiles SOURCE_ROOT OUT_DIR DEBIAN_VERSION OUTPUT_TIMESTAMP MAINTAINER, got "
                            + List.of(args));
        }
        Path source = Path.of(args[0]);
        Path out = Path.of(args[1]);
        String version = args[2];
        Instant time = Instant.parse(args[3]);
        String maintainer = args[4];
        String date = DateTimeFormatter.ISO_LOCAL_DATE.format(time.atOffset(ZoneOffset.UTC));

        Path host = out.resolve(HOST);
        Path agent = out.resolve(AGENT);
        try (Asciidoctor asciidoctor = Asciidoctor.Factory.create()) {
            ManPages manPages = new ManPages(asciidoctor, "memhygiene " + version, date);
            Map<String, String> hostFiles = new LinkedHashMap<>();
            hostFiles.put(
                    "/etc/memhygiene/memhygiene.yaml",
                    "The daemon's configuration (*memhygiene run --config*); a conffile.");
            hostFiles.put(
                    "/etc/memhygiene/policy.yaml",
                    "The KSM policy; the daemon reads it where the configuration's *policy_file* names it. A conffile.");
            hostFiles.put("/var/lib/memhygiene/", "The daemon's history database; removed on purge.");
            hostFiles.put("/lib/systemd/system/memhygiene.service", "The daemon's hardened systemd unit.");
            List<String> hostPages =
                    manPages.write(MemhygieneCli.commandLine(), 1, hostFiles, host.resolve("usr/share/man/man1"));

            Map<String, String> agentFiles = new LinkedHashMap<>();
            agentFiles.put(
                    "/etc/memhygiene/agent.yaml",
                    "The agent's configuration (*$MEMHYGIENE_AGENT_CONFIG* in the unit); a conffile.");
            agentFiles.put(
                    "/lib/systemd/system/memhygiene-agent.service",
                    "The agent's hardened systemd unit; it starts when the port appears.");
            agentFiles.put(
                    "/lib/udev/rules.d/60-memhygiene-agent.rules",
                    "Gives the virtio-serial port org.memhygiene.agent.0 to group memhygiene and starts the unit.");
            agentFiles.put(
                    "/usr/lib/sysusers.d/memhygiene-agent.conf",
                    "The system user and group memhygiene the agent runs as.");
            List<String> agentPages =
                    manPages.write(AgentCommand.commandLine(), 8, agentFiles, agent.resolve("usr/share/man/man8"));
            System.out.println("PackageFiles: " + hostPages.size() + " man pages for " + HOST + ", " + agentPages.size()
                    + " for " + AGENT + ": " + hostPages + " " + agentPages);
        }

        completion(MemhygieneCli.commandLine(), HOST, host);
        completion(AgentCommand.commandLine(), AGENT, agent);

        unit(
                source.resolve("controller/src/main/dist/memhygiene.service"),
                "/opt/memhygiene/bin/memhygiene",
                "/usr/bin/memhygiene",
                host.resolve("lib/systemd/system/memhygiene.service"));
        unit(
                source.resolve("guest-agent/src/main/dist/memhygiene-agent.service"),
                "/opt/memhygiene-agent/bin/memhygiene-agent",
                "/usr/sbin/memhygiene-agent",
                agent.resolve("lib/systemd/system/memhygiene-agent.service"));

        changelog(HOST, version, time, maintainer, host);
        changelog(AGENT, version, time, maintainer, agent);
    }

    /**
     * picocli's bash completion script, where bash-completion loads it on demand; sourced, not run, so
     * without picocli's #! line (lintian: bash-completion-with-hashbang).
     */
    static void completion(CommandLine commandLine, String command, Path packageRoot) throws IOException {
        Path file = packageRoot.resolve("usr/share/bash-completion/completions/" + command);
        Files.createDirectories(file.getParent());
        Files.writeString(file, AutoComplete.bash(command, commandLine).replaceFirst("\\A#!.*\n", ""));
    }

    /**
     * The unit as the package installs it: the source tree's unit (one file, kept by its module and checked
     * there) with ExecStart= on the packaged launcher instead of the /opt one that install-agent.sh uses.
     */
    static void unit(Path unitFile, String sourceProgram, String packagedProgram, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Files.writeString(
                target, relocateExecStart(Files.readString(unitFile), sourceProgram, packagedProgram, unitFile));
    }

    static String relocateExecStart(String unit, String sourceProgram, String packagedProgram, Path unitFile) {
        String from = "\nExecStart=" + sourceProgram;
        if (!unit.contains(from + " ") && !unit.contains(from + "\n")) {
            throw new IllegalStateException(unitFile + ": no line ExecStart=" + sourceProgram + " to point at "
                    + packagedProgram + "; update packaging/ with the unit");
        }
        return unit.replace(from, "\nExecStart=" + packagedProgram);
    }

    /**
     * A native package's changelog (Debian Policy 4.4, 12.7): one entry for the version the build made.
     * The project's history is its git log; this names the build, as lintian requires of every package.
     */
    static void changelog(String packageName, String version, Instant time, String maintainer, Path packageRoot)
            throws IOException {
        String date = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT)
                .format(time.atOffset(ZoneOffset.UTC));
        String entry = packageName + " (" + version + ") unstable; urgency=medium\n\n"
                + "  * Built from the memhygiene source tree; its git history is the changelog.\n\n"
                + " -- " + maintainer + "  " + date + "\n";
        Gzip.write(packageRoot.resolve("usr/share/doc/" + packageName + "/changelog.gz"), entry);
    }
}
