package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.PostureLevel;

class DomainXmlParserTest {
    private final DomainXmlParser parser = new DomainXmlParser();

    @Test
    void readsEachTestHostDomainAsLibvirtReturnsIt() {
        try (LibvirtHost host = TestHosts.open(TestHosts.FILE)) {
            DomainInventory inventory = new DomainInventory(host, parser);
            assertEquals(
                    new DomainXml(
                            "guarded",
                            new DomainXml.MemoryBacking(false, false, false),
                            Optional.of(new DomainXml.Balloon("virtio", true, OptionalInt.of(5))),
                            Optional.of(new DomainXml.AgentChannel(
                                    Optional.of(Path.of("/run/memhygiene/guarded.agent.sock")))),
                            true,
                            Optional.of(PostureLevel.BALANCED)),
                    inventory.xml("guarded").orElseThrow());
            assertEquals(
                    new DomainXml(
                            "noshare",
                            new DomainXml.MemoryBacking(true, true, true),
                            Optional.of(new DomainXml.Balloon("virtio", false, OptionalInt.empty())),
                            Optional.empty(),
                            false,
                            Optional.of(PostureLevel.SENSITIVE)),
                    inventory.xml("noshare").orElseThrow());
            assertEquals(
                    new DomainXml(
                            "noballoon",
                            new DomainXml.MemoryBacking(false, false, false),
                            Optional.empty(),
                            Optional.empty(),
                            false,
                            Optional.empty()),
                    inventory.xml("noballoon").orElseThrow());
            // Shut off, socket path left to libvirt: no path until the domain runs.
            assertEquals(
                    new DomainXml(
                            "stopped",
                            new DomainXml.MemoryBacking(false, false, false),
                            Optional.of(new DomainXml.Balloon("virtio", false, OptionalInt.empty())),
                            Optional.of(new DomainXml.AgentChannel(Optional.empty())),
                            false,
                            Optional.empty()),
                    inventory.xml("stopped").orElseThrow());
            assertEquals(Optional.empty(), inventory.xml("no-such-domain"));
        }
    }

    @Test
    void readsTheRecommendedVmConfigs() throws Exception {
        DomainXml balanced =
                parser.parse("memhygiene-balanced", Files.readString(Path.of("../vm-configs/balanced.xml")));
        assertEquals(
                new DomainXml(
                        "memhygiene-balanced",
                        new DomainXml.MemoryBacking(false, false, false),
                        Optional.of(new DomainXml.Balloon("virtio", true, OptionalInt.of(5))),
                        Optional.of(new DomainXml.AgentChannel(Optional.empty())),
                        true,
                        Optional.of(PostureLevel.BALANCED)),
                balanced);
        assertEquals(
                Optional.of(PostureLevel.DENSE),
                parser.parse("dense", Files.readString(Path.of("../vm-configs/dense.xml")))
                        .posture());
        DomainXml sensitive = parser.parse("sensitive", Files.readString(Path.of("../vm-configs/sensitive.xml")));
        assertEquals(Optional.of(PostureLevel.SENSITIVE), sensitive.posture());
        assertTrue(sensitive.memoryBacking().noSharePages(), sensitive.toString());
    }

    @Test
    void ignoresAnUnknownPostureLevelAndForeignChannels() {
        DomainXml xml = parser.parse("odd", """
                <domain type='kvm'><name>odd</name>
                  <metadata><p:posture xmlns:p="https://memhygiene.org/xmlns/posture/1.0" level="yolo"/></metadata>
                  <devices>
                    <channel type='pty'><target type='virtio' name='org.memhygiene.agent.0'/></channel>
                    <channel type='unix'><source mode='bind' path='/x'/><target type='virtio' name='com.example.0'/></channel>
                  </devices>
                </domain>""");
        assertEquals(Optional.empty(), xml.posture());
        assertEquals(
                Optional.of(new DomainXml.AgentChannel(Optional.empty())), xml.agentChannel(), "not a unix socket");
        assertEquals(false, xml.guestAgentChannel());
    }

    @Test
    void malformedXmlNamesTheDomain() {
        DomainXmlException e = assertThrows(
                DomainXmlException.class, () -> parser.parse("broken-vm", "<domain><name>broken-vm</name>"));
        assertTrue(e.getMessage().startsWith("domain broken-vm: malformed domain XML: "), e.getMessage());
        DomainXmlException notDomain = assertThrows(DomainXmlException.class, () -> parser.parse("net", "<network/>"));
        assertEquals(
                "domain net: malformed domain XML: root element is <network>, not <domain>", notDomain.getMessage());
    }

    @Test
    void refusesDoctypesSoNoExternalEntityIsRead(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "host secret");
        String xml = "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY s SYSTEM '" + secret.toUri() + "'>]>"
                + "<domain><name>&s;</name></domain>";
        DomainXmlException e = assertThrows(DomainXmlException.class, () -> parser.parse("evil", xml));
        assertTrue(e.getMessage().startsWith("domain evil: malformed domain XML: "), e.getMessage());
        assertTrue(e.getMessage().contains("DOCTYPE"), e.getMessage());
    }
}
