package org.memhygiene.agent.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;

/**
 * memhygiene-agent.service and its udev rule: the hardening lines are there and commented, and — where
 * systemd-analyze is installed — the unit verifies cleanly, its system call filter lets the agent's calls
 * through, and its offline exposure score stays low.
 */
class ServiceUnitTest {
    static final Path UNIT = Proc.DIST.resolve("memhygiene-agent.service");
    static final String NAME = "memhygiene-agent.service";

    /**
     * The exposure checks that systemd-analyze security may fail, each on purpose (see the unit's
     * comments): the JIT needs W^X off, the JVM may open AF_UNIX sockets, the port is a hardware device,
     * PrivateUsers= would break the port group's check, /proc is what the agent reads, the device list
     * names the virtio ports, and @system-service contains
     * @privileged/@resources calls (the scrub thread's setpriority is in @resources). No capability check
     * fails: the agent has none.
     */
    static final Set<String> ACCEPTED_EXPOSURES = Set.of(
            "SystemCallFilter=~@resources",
            "SystemCallFilter=~@privileged",
            "RootDirectory=/RootImage=",
            "MemoryDenyWriteExecute=",
            "RestrictAddressFamilies=~AF_UNIX",
            "PrivateDevices=",
            "ProtectProc=",
            "ProcSubset=",
            "PrivateUsers=",
            // DevicePolicy=closed with the virtio ports (rw) and, from ProtectClock=, the RTC (r)
            "DeviceAllow=");

    /**
     * Highest overall exposure accepted. systemd 252 rates this unit 1.0 ("OK"; 0.1–0.9 is "SAFE", 5.0
     * "MEDIUM", an unhardened service about 9.6 "UNSAFE"). What is left is the accepted exposures above,
     * which a JVM serving a device cannot avoid; 1.5 leaves room for weights that other
     * systemd versions assign, while the check of each failed line below catches any lost hardening
     * line, which moves the total only by 0.1–0.5.
     */
    static final double MAX_EXPOSURE = 1.5;

    @TempDir
    Path tmp;

    String unitText;

    @BeforeEach
    void read() throws Exception {
        unitText = Files.readString(UNIT);
    }

    Map<String, String> directives() {
        Map<String, String> m = new HashMap<>();
        for (String line : unitText.split("\n")) {
            int eq = line.indexOf('=');
            if (!line.startsWith("#") && !line.startsWith("[") && eq > 0) {
                m.merge(line.substring(0, eq), line.substring(eq + 1), (a, b) -> a + " " + b);
            }
        }
        return m;
    }

    @Test
    void theUnitIsHardenedAsDocumented() {
        Map<String, String> d = directives();
        Map<String, String> expected = Map.ofEntries(
                Map.entry("NoNewPrivileges", "yes"),
                Map.entry("ProtectSystem", "strict"),
                Map.entry("ProtectHome", "yes"),
                Map.entry("PrivateTmp", "yes"),
                Map.entry("PrivateNetwork", "yes"),
                Map.entry("ProtectKernelModules", "yes"),
                Map.entry("ProtectKernelTunables", "yes"),
                Map.entry("ProtectControlGroups", "yes"),
                Map.entry("ProtectClock", "yes"),
                Map.entry("RestrictAddressFamilies", "AF_UNIX"),
                Map.entry("LockPersonality", "yes"),
                Map.entry("RestrictRealtime", "yes"),
                Map.entry("RestrictSUIDSGID", "yes"),
                Map.entry("SystemCallArchitectures", "native"),
                Map.entry("SystemCallFilter", "@system-service"),
                Map.entry("SystemCallErrorNumber", "EPERM"),
                Map.entry("User", "memhygiene"),
                Map.entry("Group", "memhygiene"),
                // No capability at all: the agent uses none (theAgentScrubsWithNoCapabilityAndNoLockedMemory).
                Map.entry("CapabilityBoundingSet", ""),
                Map.entry("Nice", "19"),
                Map.entry("IOSchedulingClass", "idle"),
                Map.entry("OOMScoreAdjust", "500"),
                Map.entry("Restart", "on-failure"),
                Map.entry("SuccessExitStatus", "143"),
                Map.entry("ConditionPathExists", "/dev/virtio-ports/org.memhygiene.agent.0"),
                Map.entry("ExecStart", "/opt/memhygiene-agent/bin/memhygiene-agent"));
        for (var e : expected.entrySet()) {
            assertEquals(e.getValue(), d.get(e.getKey()), e.getKey());
        }
        // A ceiling above any scrub the default headroom allows: a backstop that kills the agent, not a workload.
        assertEquals("95%", d.get("MemoryMax"));
        assertEquals("infinity", d.get("MemoryHigh"));
        assertFalse(d.containsKey("AmbientCapabilities"), "nothing to hand the agent");
        assertFalse(d.containsKey("MemoryDenyWriteExecute"), "the JIT needs writable+executable code cache");
        assertTrue(unitText.contains("# MemoryDenyWriteExecute= is NOT set"), "say why W^X is off");
    }

    /** The status the unit counts as success is the one the real agent exits with when systemctl stop sends SIGTERM. */
    @Test
    void theAgentsAnswerToSigtermIsWhatTheUnitCountsAsSuccess() throws Exception {
        Path socket = tmp.resolve("agent.sock");
        ProcessBuilder builder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "org.memhygiene.agent.AgentMain",
                        "--listen",
                        "unix:" + socket)
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("agent.log").toFile());
        builder.environment().remove("MEMHYGIENE_AGENT_CONFIG");
        Process agent = builder.start();
        try (SocketChannel serving = TestAgent.connectWhenListening(socket)) {
            agent.destroy(); // SIGTERM, as systemctl stop sends it
            assertTrue(agent.waitFor(30, TimeUnit.SECONDS), "the agent stops on SIGTERM");
        } finally {
            agent.destroyForcibly();
        }
        assertEquals(
                Integer.parseInt(directives().get("SuccessExitStatus")),
                agent.exitValue(),
                Files.readString(tmp.resolve("agent.log")));
    }

    @Test
    void everyServiceDirectiveHasACommentAboveIt() {
        String[] lines = unitText.split("\n");
        boolean inService = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("[")) {
                inService = line.equals("[Service]");
                continue;
            }
            if (!inService || line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String key = line.substring(0, line.indexOf('='));
            if (Set.of("Type", "ExecStart", "Environment", "Restart", "RestartSec")
                    .contains(key)) {
                continue;
            }
            int j = i - 1;
            while (j >= 0 && !lines[j].startsWith("#") && !lines[j].isBlank() && !lines[j].startsWith("[")) {
                j--; // a group of related lines shares one comment
            }
            assertTrue(j >= 0 && lines[j].startsWith("#"), "no comment above " + line);
        }
        for (String key : List.of(
                "ProtectSystem",
                "PrivateNetwork",
                "SystemCallFilter",
                "CapabilityBoundingSet",
                "OOMScoreAdjust",
                "MemoryDenyWriteExecute",
                "DeviceAllow")) {
            assertTrue(unitText.contains("\"" + key + "=\""), key + " cites its man page entry");
        }
        assertTrue(unitText.contains("systemd.exec(5)") && unitText.contains("systemd.resource-control(5)"));
    }

    @Test
    void theUdevRuleHandsThePortToGroupMemhygiene() throws Exception {
        List<String> rules = Files.readAllLines(Proc.DIST.resolve("60-memhygiene-agent.rules")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .toList();
        assertEquals(1, rules.size(), rules::toString);
        String rule = rules.get(0);
        for (String part : List.of(
                "SUBSYSTEM==\"virtio-ports\"",
                "ATTR{name}==\"org.memhygiene.agent.0\"",
                "GROUP=\"memhygiene\"",
                "MODE=\"0660\"",
                "TAG+=\"systemd\"",
                "ENV{SYSTEMD_WANTS}+=\"" + NAME + "\"")) {
            assertTrue(rule.contains(part), "rule lacks " + part + ": " + rule);
        }
    }

    @Test
    void theSysusersEntryCreatesASystemUserAndGroup() throws Exception {
        Path sysusers = Proc.onPath("systemd-sysusers");
        if (sysusers == null) {
            System.out.println("SKIP: systemd-sysusers is not installed (apt-get install systemd)");
        }
        Assumptions.assumeTrue(sysusers != null, "systemd-sysusers is not installed");
        Path etc = Files.createDirectories(tmp.resolve("image/etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/bash\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\n");
        Proc p = Proc.run(List.of(
                sysusers.toString(),
                "--root=" + tmp.resolve("image"),
                Proc.DIST.resolve("memhygiene-agent.sysusers").toString()));
        assertEquals(0, p.exit(), p::toString);
        String user = Files.readAllLines(etc.resolve("passwd")).stream()
                .filter(l -> l.startsWith("memhygiene:"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(p));
        String[] f = user.split(":");
        int uid = Integer.parseInt(f[2]);
        assertTrue(uid > 0 && uid < 1000, "a system uid: " + user);
        assertEquals("/usr/sbin/nologin", f[6], user);
        assertTrue(
                Files.readAllLines(etc.resolve("group")).stream()
                        .anyMatch(l -> l.startsWith("memhygiene:x:" + f[3] + ":")),
                "group memhygiene with the user's gid");
    }

    static Path systemdAnalyze() {
        Path p = Proc.onPath("systemd-analyze");
        if (p == null) {
            System.out.println("SKIP: systemd-analyze is not installed (apt-get install systemd)");
        }
        Assumptions.assumeTrue(p != null, "systemd-analyze is not installed");
        return p;
    }

    static int systemdVersion(Path analyze) throws Exception {
        Matcher m = Pattern.compile("systemd (\\d+)")
                .matcher(Proc.run(List.of(analyze.toString(), "--version")).output());
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    /**
     * The installed unit with ExecStart= pointing into the temporary root, so that verify finds an
     * executable there. (systemd-analyze verify --root= would need a full unit tree in the root:
     * "Unit sysinit.target not found".)
     */
    Path installedUnit() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path jar = Files.writeString(tmp.resolve("a.jar"), "jar");
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Proc p = Proc.run(List.of(
                "bash",
                Proc.DIST.resolve("install-agent.sh").toString(),
                "--root",
                root.toString(),
                "--jar",
                jar.toString(),
                "--lib",
                lib.toString()));
        assertEquals(0, p.exit(), p::toString);
        String text = Files.readString(root.resolve("etc/systemd/system/" + NAME))
                .replace("ExecStart=/opt/", "ExecStart=" + root + "/opt/");
        Path dir = Files.createDirectories(tmp.resolve("units"));
        return Files.writeString(dir.resolve(NAME), text);
    }

    @Test
    void systemdAnalyzeVerifyIsClean() throws Exception {
        Path analyze = systemdAnalyze();
        Path unit = installedUnit();
        Proc p = Proc.run(List.of(analyze.toString(), "verify", unit.toString()));
        System.out.println("systemd-analyze verify " + NAME + ": " + p);
        assertEquals(0, p.exit(), p::toString);
        assertFalse(p.output().contains("memhygiene"), "warnings about our unit: " + p);
    }

    @Test
    void systemdAnalyzeVerifyCatchesAMissingExecutable() throws Exception {
        Path analyze = systemdAnalyze();
        Path unit = Files.writeString(
                Files.createDirectories(tmp.resolve("bad")).resolve(NAME),
                unitText.replace("ExecStart=/opt/", "ExecStart=" + tmp + "/nowhere/opt/"));
        Proc p = Proc.run(List.of(analyze.toString(), "verify", unit.toString()));
        assertTrue(p.exit() != 0 && p.output().contains("memhygiene-agent"), "verify should complain: " + p);
    }

    /** Every system call in a systemd-analyze syscall-filter group, nested groups expanded. */
    static Set<String> syscalls(Path analyze, String group) throws Exception {
        Map<String, List<String>> groups = new HashMap<>();
        String current = null;
        for (String line :
                Proc.run(List.of(analyze.toString(), "syscall-filter")).output().split("\n")) {
            if (line.startsWith("@")) {
                current = line.strip();
                groups.put(current, new ArrayList<>());
            } else if (current != null
                    && line.startsWith("    ")
                    && !line.strip().startsWith("#")) {
                groups.get(current).add(line.strip());
            }
        }
        Set<String> out = new TreeSet<>();
        expand(groups, group, out, new HashSet<>());
        return out;
    }

    private static void expand(Map<String, List<String>> groups, String group, Set<String> out, Set<String> seen) {
        if (!seen.add(group)) {
            return;
        }
        for (String s : groups.getOrDefault(group, List.of())) {
            if (s.startsWith("@")) {
                expand(groups, s, out, seen);
            } else {
                out.add(s);
            }
        }
    }

    @Test
    void theSystemCallFilterLetsTheAgentsCallsThrough() throws Exception {
        Path analyze = systemdAnalyze();
        Set<String> allowed = syscalls(analyze, "@system-service");
        assertTrue(allowed.size() > 100, allowed::toString);
        for (String call : List.of(
                "mmap", "munmap", "mprotect", "madvise", "setpriority", "getpriority", "clone3", "futex", "rseq")) {
            assertTrue(allowed.contains(call), call + " is filtered");
        }
        System.out.println("@system-service has " + allowed.size() + " calls");
    }

    @Test
    void systemdAnalyzeSecurityScoreIsLow() throws Exception {
        Path analyze = systemdAnalyze();
        int version = systemdVersion(analyze);
        if (version < 250) {
            System.out.println("SKIP: systemd " + version + " has no 'security --offline' (needs 250)");
        }
        Assumptions.assumeTrue(version >= 250, "systemd-analyze security --offline needs systemd 250");
        Path unit = installedUnit();
        Proc p = Proc.run(List.of(
                analyze.toString(),
                "security",
                "--offline=yes",
                "--threshold=" + Math.round(MAX_EXPOSURE * 10),
                unit.toString()));
        System.out.println("systemd-analyze security --offline=yes " + NAME + " (failed checks and score):");
        p.output().lines().filter(l -> l.startsWith("✗") || l.startsWith("→")).forEach(System.out::println);
        Matcher m = Pattern.compile("Overall exposure level for " + Pattern.quote(NAME) + ": (\\d+\\.\\d)")
                .matcher(p.output());
        assertTrue(m.find(), p::toString);
        double exposure = Double.parseDouble(m.group(1));
        assertTrue(exposure <= MAX_EXPOSURE, "exposure " + exposure + " > " + MAX_EXPOSURE);
        assertEquals(0, p.exit(), p::toString);
        Set<String> failed = new TreeSet<>();
        for (String line : p.output().split("\n")) {
            if (line.startsWith("✗ ")) {
                failed.add(line.substring(2).strip().split("\\s+")[0]);
            }
        }
        failed.removeAll(ACCEPTED_EXPOSURES);
        assertEquals(Set.of(), failed, "exposures not accepted in ServiceUnitTest.ACCEPTED_EXPOSURES");
    }

    /**
     * What the unit grants is all the agent needs: a scrub (mmap, MADV_POPULATE_WRITE, setpriority on its
     * thread) in a JVM with no capabilities (setpriv empties every set, as CapabilityBoundingSet= does) and
     * RLIMIT_MEMLOCK 0, so that any mlock would fail. Needs root to drop what it has, else it is skipped
     * saying so.
     */
    @Test
    void theAgentScrubsWithNoCapabilityAndNoLockedMemory() throws Exception {
        boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0"));
        Path setpriv = Proc.onPath("setpriv");
        Path prlimit = Proc.onPath("prlimit");
        if (!root || setpriv == null || prlimit == null) {
            System.out.println("SKIP: needs root and util-linux's setpriv and prlimit (root " + root + ")");
        }
        Assumptions.assumeTrue(root && setpriv != null && prlimit != null, "needs root, setpriv and prlimit");
        String java = ProcessHandle.current().info().command().orElse("java");
        Proc scrub = Proc.run(List.of(
                prlimit.toString(),
                "--memlock=0:0",
                setpriv.toString(),
                "--bounding-set=-all",
                "--inh-caps=-all",
                "--ambient-caps=-all",
                "sh",
                "-c",
                "grep -E '^(CapEff|CapBnd)' /proc/self/status; exec \"$@\"",
                "sh",
                java,
                "-Xmx64m",
                "-cp",
                System.getProperty("java.class.path"),
                "org.memhygiene.agent.AgentMain",
                "scrub",
                "--max-bytes",
                "16M",
                "--json"));
        System.out.println("scrub with no capabilities, RLIMIT_MEMLOCK 0: " + scrub);
        assertEquals(0, scrub.exit(), scrub::toString);
        assertTrue(
                scrub.output().contains("CapEff:\t0000000000000000")
                        && scrub.output().contains("CapBnd:\t0000000000000000"),
                scrub::toString);
        assertTrue(
                scrub.output().contains("\"outcome\" : \"COMPLETED\"")
                        && scrub.output().contains("\"bytes_zeroed\" : 16777216"),
                scrub::toString);
    }
}
