package org.memhygiene.agent.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** install-agent.sh into a temporary root (--root): what lands where, idempotence, config, uninstall. */
class ServiceInstallScriptTest {
    static final Path SCRIPT = Proc.DIST.resolve("install-agent.sh");

    @TempDir
    Path tmp;

    Path root;
    Path jar;
    Path lib;

    @BeforeEach
    void fakeBuild() throws IOException {
        root = Files.createDirectories(tmp.resolve("root"));
        jar = Files.writeString(tmp.resolve("memhygiene-guest-agent.jar"), "agent jar");
        lib = Files.createDirectories(tmp.resolve("lib"));
        Files.writeString(lib.resolve("picocli-4.7.6.jar"), "picocli");
        Files.writeString(lib.resolve("memhygiene-core-0.1.0-SNAPSHOT.jar"), "core");
        // As guest-agent/pom.xml unpacks JNA's native half, one directory per architecture.
        Files.writeString(
                Files.createDirectories(lib.resolve("jna/linux-x86-64")).resolve("libjnidispatch.so"), "x86-64 so");
    }

    Proc install(String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                "bash",
                SCRIPT.toString(),
                "--root",
                root.toString(),
                "--jar",
                jar.toString(),
                "--lib",
                lib.toString()));
        cmd.addAll(List.of(extra));
        Proc p = Proc.run(cmd);
        assertEquals(0, p.exit(), () -> "install-agent.sh " + String.join(" ", extra) + ": " + p);
        return p;
    }

    /** Every path under the root with its permissions and, for files, the SHA-256 and mtime. */
    Map<String, String> snapshot() throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                String what = Files.isRegularFile(p)
                        ? perms + " " + sha256(p) + " "
                                + Files.getLastModifiedTime(p).toMillis()
                        : perms + " dir";
                m.put("/" + root.relativize(p), what);
            }
        }
        return m;
    }

    static String sha256(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    String mode(String path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(path.substring(1))));
    }

    @Test
    void filesLandWithTheRightModes() throws Exception {
        Proc p = install();
        assertTrue(p.output().contains("not creating user memhygiene"), p::toString);
        Map<String, String> expected = Map.of(
                "/opt/memhygiene-agent/bin/memhygiene-agent", "rwxr-xr-x",
                "/opt/memhygiene-agent/memhygiene-guest-agent.jar", "rw-r--r--",
                "/opt/memhygiene-agent/lib/picocli-4.7.6.jar", "rw-r--r--",
                "/opt/memhygiene-agent/lib/memhygiene-core-0.1.0-SNAPSHOT.jar", "rw-r--r--",
                "/opt/memhygiene-agent/lib/jna/linux-x86-64/libjnidispatch.so", "rw-r--r--",
                "/etc/systemd/system/memhygiene-agent.service", "rw-r--r--",
                "/etc/udev/rules.d/60-memhygiene-agent.rules", "rw-r--r--",
                "/etc/sysusers.d/memhygiene-agent.conf", "rw-r--r--",
                "/etc/memhygiene/agent.yaml", "rw-r--r--",
                "/opt/memhygiene-agent/share/agent.yaml.dist", "rw-r--r--");
        for (var e : expected.entrySet()) {
            assertTrue(Files.isRegularFile(root.resolve(e.getKey().substring(1))), e.getKey() + " missing");
            assertEquals(e.getValue(), mode(e.getKey()), e.getKey());
        }
        assertEquals("rwxr-xr-x", mode("/opt/memhygiene-agent/lib"));
        assertEquals("rwxr-xr-x", mode("/opt/memhygiene-agent/lib/jna/linux-x86-64"));
        assertEquals("rwxr-xr-x", mode("/etc/memhygiene"));
        assertEquals(
                sha256(Proc.DIST.resolve("memhygiene-agent.service")),
                sha256(root.resolve("etc/systemd/system/memhygiene-agent.service")));
        assertEquals("agent jar", Files.readString(root.resolve("opt/memhygiene-agent/memhygiene-guest-agent.jar")));
        long regularFiles;
        try (Stream<Path> s = Files.walk(root)) {
            regularFiles = s.filter(Files::isRegularFile).count();
        }
        assertEquals(expected.size(), regularFiles, () -> "unexpected files: " + snapshotOrError());
        // The launcher is valid sh and starts the agent class from the installed jars.
        Path launcher = root.resolve("opt/memhygiene-agent/bin/memhygiene-agent");
        assertEquals(0, Proc.run(List.of("sh", "-n", launcher.toString())).exit());
        String text = Files.readString(launcher);
        assertTrue(text.contains("org.memhygiene.agent.AgentMain"), text);
        assertTrue(
                text.contains("-Djna.boot.library.path=$jna_native") && text.contains("$home/lib/jna/linux-x86-64"),
                text);
        assertTrue(
                text.contains(launcherFlags(Path.of("../bin/memhygiene-agent"))),
                "the installed launcher uses the flags of bin/memhygiene-agent: " + text);
    }

    private String snapshotOrError() {
        try {
            return snapshot().keySet().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void aSecondRunChangesNothing() throws Exception {
        install();
        Map<String, String> before = snapshot();
        Thread.sleep(20);
        Proc again = install();
        assertEquals(before, snapshot());
        assertFalse(again.output().contains("installed "), again::toString);
        assertFalse(again.output().contains("created "), again::toString);
        assertFalse(again.output().contains("removed "), again::toString);
    }

    @Test
    void anEditedConfigIsKeptByInstallAndUninstall() throws Exception {
        install();
        Path config = root.resolve("etc/memhygiene/agent.yaml");
        String edited = Files.readString(config).replace("min_headroom_bytes: 256M", "min_headroom_bytes: 1G");
        Files.writeString(config, edited);
        Proc again = install();
        assertEquals(edited, Files.readString(config));
        assertTrue(again.output().contains("kept the existing /etc/memhygiene/agent.yaml"), again::toString);

        Proc gone = install("--uninstall");
        assertEquals(edited, Files.readString(config), "uninstall must keep an edited config");
        assertTrue(gone.output().contains("kept /etc/memhygiene/agent.yaml"), gone::toString);
        try (Stream<Path> s = Files.walk(root)) {
            assertEquals(List.of(config), s.filter(Files::isRegularFile).toList());
        }
    }

    @Test
    void uninstallRemovesWhatItInstalled() throws Exception {
        // Something of the admin's own next to ours must survive.
        Path foreign = Files.writeString(
                Files.createDirectories(root.resolve("etc/udev/rules.d")).resolve("99-local.rules"), "# mine\n");
        install();
        // What systemd creates for the unit's CacheDirectory= when the agent runs.
        Files.writeString(
                Files.createDirectories(root.resolve("var/cache/memhygiene-agent/JNA/temp"))
                        .resolve("jna123.tmp"),
                "so");
        Proc gone = install("--uninstall");
        assertFalse(Files.exists(root.resolve("var/cache/memhygiene-agent")), gone::toString);
        try (Stream<Path> s = Files.walk(root)) {
            assertEquals(List.of(foreign), s.filter(Files::isRegularFile).toList(), gone::toString);
        }
        assertFalse(Files.exists(root.resolve("opt/memhygiene-agent")), gone::toString);
        assertFalse(Files.exists(root.resolve("etc/memhygiene")), gone::toString);
        // Uninstalling twice is fine too.
        install("--uninstall");
    }

    /**
     * The real script without --root, on this machine's own /etc, /opt and /var, in a private mount
     * namespace where those are copy-on-write overlays (the machine itself is not changed) and /run has
     * /run/systemd/system, so the script takes the live-system path. systemd is not PID 1 here, so
     * systemctl is a stand-in on PATH that records its calls: the one fake, for what cannot run here.
     */
    @Test
    void uninstallWithoutRootWorksOnALiveSystem() throws Exception {
        Path unshare = Proc.onPath("unshare");
        if (unshare == null
                || !"0".equals(Proc.run(List.of("id", "-u")).output().strip())) {
            System.out.println("SKIP uninstallWithoutRootWorksOnALiveSystem: needs root and unshare (util-linux)");
        }
        Assumptions.assumeTrue(
                unshare != null
                        && "0".equals(Proc.run(List.of("id", "-u")).output().strip()),
                "needs root and unshare");
        Path live = Files.writeString(tmp.resolve("live.sh"), """
                set -eu
                t=$1 script=$2 jar=$3 lib=$4
                for d in etc opt var; do
                  mkdir -p "$t/$d.upper" "$t/$d.work"
                  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$t/$d.upper,workdir=$t/$d.work" "/$d"
                done
                mount -t tmpfs tmpfs /run
                mkdir -p /run/systemd/system "$t/bin"
                printf '#!/bin/sh\necho "systemctl $*" >> "%s/systemctl.calls"\n' "$t" > "$t/bin/systemctl"
                chmod +x "$t/bin/systemctl"
                export PATH="$t/bin:$PATH"
                bash "$script" --jar "$jar" --lib "$lib"
                mkdir -p /var/cache/memhygiene-agent/JNA/temp   # what systemd creates for CacheDirectory=
                echo "--- uninstall"
                bash "$script" --uninstall
                echo "--- left"
                for p in /opt/memhygiene-agent /etc/memhygiene /etc/systemd/system/memhygiene-agent.service \
                    /etc/udev/rules.d/60-memhygiene-agent.rules /etc/sysusers.d/memhygiene-agent.conf /var/cache/memhygiene-agent; do
                  if [ -e "$p" ]; then echo "LEFT $p"; fi
                done
                """);
        Path work = Files.createDirectories(tmp.resolve("ns"));
        boolean hostHadIt = Files.exists(Path.of("/opt/memhygiene-agent"));
        Proc p = Proc.run(List.of(
                unshare.toString(),
                "--mount",
                "--propagation",
                "private",
                "bash",
                live.toString(),
                work.toString(),
                SCRIPT.toString(),
                jar.toString(),
                lib.toString()));
        if (p.exit() != 0 && p.output().contains("mount:") && !p.output().contains("--- uninstall")) {
            System.out.println("SKIP uninstallWithoutRootWorksOnALiveSystem: no overlay mounts here: " + p);
            Assumptions.abort("no overlay mounts: " + p);
        }
        assertEquals(0, p.exit(), p::toString);
        String uninstall = p.output().substring(p.output().indexOf("--- uninstall"));
        assertFalse(uninstall.contains("parameter null or not set"), p::toString);
        assertTrue(uninstall.contains("removed /opt/memhygiene-agent/lib/"), p::toString);
        assertTrue(uninstall.contains("removed /var/cache/memhygiene-agent/"), p::toString);
        assertFalse(p.output().contains("LEFT "), p::toString);
        String calls = Files.readString(work.resolve("systemctl.calls"));
        assertTrue(calls.contains("systemctl disable --now memhygiene-agent.service\nsystemctl daemon-reload"), calls);
        assertEquals(hostHadIt, Files.exists(Path.of("/opt/memhygiene-agent")), "the machine itself was not changed");
    }

    @Test
    void anUpgradeReplacesChangedJarsAndDropsStaleOnes() throws Exception {
        install();
        Files.delete(lib.resolve("picocli-4.7.6.jar"));
        Files.writeString(lib.resolve("picocli-4.7.7.jar"), "picocli new");
        Files.writeString(jar, "agent jar v2");
        Files.delete(lib.resolve("jna/linux-x86-64/libjnidispatch.so"));
        Files.writeString(
                Files.createDirectories(lib.resolve("jna/linux-aarch64")).resolve("libjnidispatch.so"), "aarch64 so");
        Proc up = install();
        Path home = root.resolve("opt/memhygiene-agent");
        assertFalse(Files.exists(home.resolve("lib/picocli-4.7.6.jar")), up::toString);
        assertFalse(Files.exists(home.resolve("lib/jna/linux-x86-64/libjnidispatch.so")), up::toString);
        assertEquals("aarch64 so", Files.readString(home.resolve("lib/jna/linux-aarch64/libjnidispatch.so")));
        assertEquals("picocli new", Files.readString(home.resolve("lib/picocli-4.7.7.jar")));
        assertEquals("agent jar v2", Files.readString(home.resolve("memhygiene-guest-agent.jar")));
    }

    @Test
    void refusesUnknownArgumentsAndMissingJars() throws Exception {
        Proc bad = Proc.run(List.of("bash", SCRIPT.toString(), "--root", root.toString(), "--bogus"));
        assertTrue(bad.exit() != 0 && bad.output().contains("unknown argument: --bogus"), bad::toString);
        Proc noJar = Proc.run(List.of(
                "bash",
                SCRIPT.toString(),
                "--root",
                root.toString(),
                "--jar",
                tmp.resolve("nope.jar").toString(),
                "--lib",
                lib.toString()));
        assertTrue(noJar.exit() != 0 && noJar.output().contains("no agent jar"), noJar::toString);
        try (Stream<Path> s = Files.list(root)) {
            assertEquals(0, s.count(), "nothing installed after a refusal");
        }
    }

    @Test
    void shellScriptsAreShellcheckClean() throws Exception {
        Path shellcheck = Proc.onPath("shellcheck");
        if (shellcheck == null) {
            System.out.println("SKIP shellcheck: not installed (apt-get install shellcheck)");
        }
        Assumptions.assumeTrue(shellcheck != null, "shellcheck is not installed");
        Proc p = Proc.run(List.of(
                shellcheck.toString(),
                SCRIPT.toString(),
                Proc.DIST.resolve("memhygiene-agent").toString()));
        assertEquals(0, p.exit(), p::toString);
    }

    private static String launcherFlags(Path launcher) throws IOException {
        return Files.readAllLines(launcher).stream()
                .filter(l -> l.startsWith("agent_java_opts="))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no agent_java_opts in " + launcher));
    }
}
