package org.memhygiene.controller.posture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.core.host.HostFacts;
import org.memhygiene.core.posture.Finding;

/**
 * Posture from this machine's real files (/sys/devices/system/cpu/vulnerabilities, /proc/swaps) and of
 * real libvirt test-driver domains: test:///default and controller/src/test/resources/libvirt/test-host.xml.
 */
class PostureOnThisMachineTest {
    private static final Path VULNERABILITIES = Path.of("/sys/devices/system/cpu/vulnerabilities");

    @TempDir
    Path dir;

    @Test
    void theRealVulnerabilityFilesAndSwapsBecomeFindingsWithTheirEvidence() throws IOException {
        if (!Files.isDirectory(VULNERABILITIES)) {
            System.out.println(
                    "PostureOnThisMachineTest: skipped, " + VULNERABILITIES + " does not exist on this kernel");
            Assumptions.abort("no " + VULNERABILITIES);
        }
        HostPosture posture = new PostureScorer(() -> Optional.of(HostFacts.read(Path.of("/proc"), Path.of("/sys"))))
                .score(new PostureHost().build());
        List<Finding> host = posture.hostFindings();
        int vulnerable = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(VULNERABILITIES)) {
            for (Path file : files) {
                String text = Files.readString(file).strip();
                if (text.startsWith("Vulnerable")) {
                    vulnerable++;
                    String id = "host.cpu.vulnerable." + file.getFileName();
                    assertTrue(
                            host.stream()
                                    .anyMatch(f ->
                                            f.id().equals(id) && f.evidence().equals(file + ": " + text)),
                            id + " with the file's text as evidence, in " + host);
                }
            }
        }
        if (vulnerable == 0) {
            assertTrue(
                    host.stream()
                            .anyMatch(f -> f.id().equals("host.cpu.mitigated")
                                    && f.evidence().startsWith(VULNERABILITIES.toString())),
                    host.toString());
        }
        List<String> swaps = Files.readAllLines(Path.of("/proc/swaps")).stream()
                .skip(1)
                .filter(l -> !l.isBlank())
                .toList();
        List<Finding> swapFindings =
                host.stream().filter(f -> f.id().startsWith("host.swap.")).toList();
        if (swaps.isEmpty()) {
            assertEquals(
                    Set.of("host.swap.none"),
                    swapFindings.stream().map(Finding::id).collect(Collectors.toSet()));
            assertEquals("/proc/swaps: no devices", swapFindings.get(0).evidence());
        } else {
            assertEquals(swaps.size(), swapFindings.size(), swapFindings.toString());
            for (String line : swaps) {
                assertTrue(
                        swapFindings.stream().anyMatch(f -> f.evidence().equals("/proc/swaps: " + line.strip())), line);
            }
        }
        System.out.println("this machine's host posture: score " + posture.hostScore() + ", "
                + host.stream().map(f -> f.severity() + " " + f.id()).toList());
    }

    @Test
    void theDefaultTestDriverDomainIsScored() {
        try (LinuxHost host = LinuxHost.of("test:///default", Duration.ofSeconds(1), Duration.ZERO)) {
            HostPosture posture = PostureScorer.of(host).score(host.snapshot());
            assertEquals(1, posture.vms().size());
            VmPosture test = posture.vms().get(0);
            assertEquals("test", test.name());
            Set<String> ids = test.findings().stream().map(Finding::id).collect(Collectors.toSet());
            assertTrue(ids.contains("vm.agent.absent"), ids.toString());
            assertTrue(ids.contains("vm.sharing.allowed"), "one VM cannot share across VMs: " + ids);
            assertEquals(PostureRubric.score(test.findings()), test.score());
            assertTrue(test.score() <= 98, "the missing agent costs 2: " + test.score());
            assertTrue(
                    posture.hostFindings().stream().noneMatch(f -> f.id().equals("host.files.not_visible")),
                    "test:///default is this machine: its files are read");
        }
    }

    @Test
    void theDomainsOfTheTestHostFileAreScoredByTheirConfiguration() {
        String uri =
                "test://" + Path.of("src/test/resources/libvirt/test-host.xml").toAbsolutePath();
        try (LinuxHost host = LinuxHost.of(uri, Duration.ofMillis(500), Duration.ZERO)) {
            HostPosture posture = PostureScorer.of(host).score(host.snapshot());
            assertEquals(
                    Set.of("guarded", "noshare", "noballoon", "stopped"),
                    posture.vms().stream().map(VmPosture::name).collect(Collectors.toSet()));
            // guarded: balanced, our channel, but no agent behind its socket.
            assertTrue(
                    ids(posture, "guarded").contains("vm.agent.unreachable"),
                    ids(posture, "guarded").toString());
            // noshare: sensitive, and KSM never sees it (<nosharepages/>, huge pages, locked): no high finding.
            assertTrue(
                    ids(posture, "noshare")
                            .containsAll(Set.of("vm.sharing.off", "vm.memory.locked", "vm.agent.absent")),
                    ids(posture, "noshare").toString());
            assertTrue(vm(posture, "noshare").findings().stream().noneMatch(f -> f.id().startsWith("vm.sensitive")));
            // noballoon: paused, so its QEMU process exists, without any agent channel.
            assertTrue(ids(posture, "noballoon").contains("vm.agent.absent"));
            // stopped: no process, so no agent is expected.
            assertTrue(
                    ids(posture, "stopped").stream().noneMatch(id -> id.startsWith("vm.agent.")),
                    ids(posture, "stopped").toString());
        }
    }

    @Test
    void aSensitiveDomainThatAllowsSharingIsHighOnARealTestDriver() throws IOException {
        Path xml = Files.writeString(dir.resolve("host.xml"), """
                <node>
                  <domain type='test'>
                    <name>vault</name>
                    <uuid>4d0c2c0a-7f2f-4e3c-9d43-0000000000aa</uuid>
                    <metadata><memhygiene:posture xmlns:memhygiene="https://memhygiene.org/xmlns/posture/1.0" level="sensitive"/></metadata>
                    <memory unit='MiB'>512</memory>
                    <os><type arch='i686'>hvm</type></os>
                  </domain>
                </node>
                """);
        try (LinuxHost host = LinuxHost.of("test://" + xml, Duration.ofMillis(500), Duration.ZERO)) {
            VmPosture vault =
                    PostureScorer.of(host).score(host.snapshot()).vms().get(0);
            Finding high = vault.findings().get(0);
            assertEquals("vm.sensitive.sharing_allowed", high.id());
            assertTrue(vault.score() <= 78, "HIGH and the missing agent: " + vault.score());
        }
    }

    private static VmPosture vm(HostPosture posture, String name) {
        return posture.vms().stream()
                .filter(v -> v.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    private static Set<String> ids(HostPosture posture, String name) {
        return vm(posture, name).findings().stream().map(Finding::id).collect(Collectors.toSet());
    }
}
