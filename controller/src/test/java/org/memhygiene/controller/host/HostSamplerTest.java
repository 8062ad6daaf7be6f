package org.memhygiene.controller.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.agentlink.AgentLinks;
import org.memhygiene.controller.cli.HostCli;
import org.memhygiene.controller.libvirt.DomainInventory;
import org.memhygiene.controller.libvirt.DomainKsmReader;
import org.memhygiene.controller.libvirt.DomainXmlParser;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.controller.libvirt.QemuProcessLocator;
import org.memhygiene.core.agent.AgentStatus;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.linux.LinuxThread;

/**
 * A whole host sample on libvirt's test driver: domains with a real agent (its server on a unix
 * socket), a silent guest, no channel, shut off, and a "QEMU" process (a real process with QEMU's
 * -name argument) whose ksm_stat is read from this machine's /proc.
 */
class HostSamplerTest {
    @TempDir
    Path dir;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private Process qemu;
    private ServerSocketChannel agent;
    private ServerSocketChannel silent;

    @AfterEach
    void stop() throws Exception {
        scheduler.shutdownNow();
        if (qemu != null) {
            qemu.descendants().forEach(ProcessHandle::destroyForcibly); // sh's sleep
            qemu.destroyForcibly();
        }
        agent.close();
        silent.close();
    }

    private String host() throws Exception {
        Path good = dir.resolve("good.sock");
        agent = TestAgent.serve(UnixDomainSocketAddress.of(good), 50, "test-agent", scheduler);
        Path quiet = dir.resolve("silent.sock");
        silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX); // accepts (backlog), never answers
        silent.bind(UnixDomainSocketAddress.of(quiet));
        return new TestDriverHost()
                .domain("good", true, Optional.of(good), false)
                .domain("silent", true, Optional.of(quiet), false)
                .domain("plain", true, Optional.empty(), true)
                .domain("off", false, Optional.of(dir.resolve("off.sock")), false)
                .write(dir.resolve("host.xml"));
    }

    @Test
    void everyVmGetsItsRowAndOneBadGuestDoesNotSpoilTheRest() throws Exception {
        String uri = host();
        // The "QEMU" of domain good: a real process whose command line names the guest as QEMU's does.
        qemu = new ProcessBuilder(
                        "sh", "-c", "sleep 60; :", "qemu-system-x86_64", "-name", "guest=good,debug-threads=on")
                .start();
        Path pids = Files.createDirectories(dir.resolve("pids"));
        Files.writeString(pids.resolve("good.pid"), Long.toString(qemu.pid()));
        Duration timeout = Duration.ofMillis(700);
        long page = LinuxMemory.pageSizeBytes();
        try (LibvirtHost libvirt = new LibvirtHost(uri);
                AgentLinks links = new AgentLinks(timeout, Duration.ZERO, 8, Clock.systemUTC())) {
            HostSampler sampler = new HostSampler(
                    Optional.of(new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), page)),
                    Optional.of(new HostProc(ProcessKsmReader.DEFAULT_ROOT, LinuxThread.clockTicksPerSecond())),
                    new DomainInventory(libvirt, new DomainXmlParser()),
                    Optional.of(new DomainKsmReader(
                            new QemuProcessLocator(pids, ProcessKsmReader.DEFAULT_ROOT),
                            new ProcessKsmReader(ProcessKsmReader.DEFAULT_ROOT))),
                    links,
                    uri,
                    page,
                    Clock.systemUTC());
            HostSnapshot sample = sampler.sample();
            Map<String, VmSnapshot> rows = sample.vms().stream()
                    .collect(Collectors.toMap(vm -> vm.domain().name(), Function.identity()));

            assertEquals(4, rows.size());
            assertEquals(
                    AgentStatus.OK,
                    rows.get("good").agent().status(),
                    rows.get("good").agent().problem());
            assertTrue(rows.get("good").agent().stats().orElseThrow().memTotalBytes() > 0);
            assertEquals(AgentStatus.TIMEOUT, rows.get("silent").agent().status());
            assertEquals(AgentStatus.NO_CHANNEL, rows.get("plain").agent().status());
            assertEquals(AgentStatus.VM_NOT_RUNNING, rows.get("off").agent().status());
            assertTrue(sample.took().compareTo(timeout.multipliedBy(2)) < 0, "took " + sample.took());

            assertEquals((int) qemu.pid(), rows.get("good").ksm().orElseThrow().pid());
            assertTrue(rows.get("good").ksmSavedBytes(page).isPresent(), "ksm_stat of the real process was read");
            assertTrue(rows.get("silent").ksm().isEmpty(), "no QEMU process for it on this machine");
            assertEquals(Optional.of(false), rows.get("plain").sharingAllowed(), "<nosharepages/>");
            assertEquals(Optional.of(true), rows.get("good").sharingAllowed());
            assertTrue(sample.ksm().isPresent() == Files.isDirectory(KsmSysfs.DEFAULT_ROOT));
            assertTrue(sample.memory().orElseThrow().memTotalBytes() > 0);
            assertEquals(
                    Files.isDirectory(KsmSysfs.DEFAULT_ROOT),
                    sample.ksmdCpuMillis().isPresent(),
                    "ksmd runs where KSM is");
        }
    }

    @Test
    void theVmsCommandPrintsARowPerVmAndStableJson() throws Exception {
        String uri = host();
        var out = new StringWriter();
        var err = new StringWriter();
        var cli = HostCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        assertEquals(0, cli.execute("vms", "--uri", uri, "--agent-timeout", "700ms", "--json"), err.toString());
        JsonNode json = Json.mapper().readTree(out.toString());
        assertEquals(uri, json.get("uri").asText());
        Map<String, JsonNode> vms = new HashMap<>();
        json.get("vms").forEach(vm -> vms.put(vm.at("/domain/name").asText(), vm));
        assertEquals("OK", vms.get("good").at("/agent/status").asText());
        assertEquals(
                "test-agent", vms.get("good").at("/agent/hello/agent_version").asText());
        assertTrue(vms.get("plain").get("sharing_allowed").isBoolean()
                && !vms.get("plain").get("sharing_allowed").asBoolean());
        assertEquals("shut off", vms.get("off").at("/domain/state").asText().equals("SHUT_OFF") ? "shut off" : "?");

        var table = new StringWriter();
        cli.setOut(new PrintWriter(table));
        assertEquals(0, cli.execute("vms", "--uri", uri, "--agent-timeout", "700ms"));
        String text = table.toString();
        assertTrue(text.contains("4 domains"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("good ") && l.contains(" ok ")), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("off ") && l.contains("vm not running")), text);
    }

    @Test
    void vmScrubAndAgentPingGoThroughTheChannelAndSayWhatIsMissing() throws Exception {
        String uri = host();
        var out = new StringWriter();
        var err = new StringWriter();
        var cli = HostCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        assertEquals(
                0, cli.execute("vm", "scrub", "good", "--uri", uri, "--max-bytes", "8M", "--json"), err.toString());
        assertEquals(
                8L << 20,
                Json.mapper().readTree(out.toString()).get("bytes_zeroed").asLong(),
                out.toString());
        assertEquals(0, cli.execute("agent", "ping", "good", "--uri", uri), err.toString());
        assertTrue(out.toString().contains("good: agent test-agent, protocol 1"), out.toString());

        assertEquals(1, cli.execute("agent", "ping", "plain", "--uri", uri));
        assertTrue(err.toString().contains("plain has no org.memhygiene.agent.0 channel"), err.toString());
        assertEquals(1, cli.execute("vm", "scrub", "off", "--uri", uri));
        assertTrue(err.toString().contains("off is shut off"), err.toString());
        assertEquals(2, cli.execute("vm", "show", "nosuch", "--uri", uri));
        assertTrue(err.toString().contains("no domain named 'nosuch'"), err.toString());
    }
}
