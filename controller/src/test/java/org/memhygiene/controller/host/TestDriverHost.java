package org.memhygiene.controller.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes a host for libvirt's test driver (https://libvirt.org/drvtest.html) with the domains a test or
 * benchmark needs, each optionally carrying our agent channel bound to a socket of its choosing; open it
 * as {@code test:///<absolute path>}. Shared with bench/ through the controller's test jar.
 */
public final class TestDriverHost {
    /** One domain: its name, whether it runs, the host side of its agent channel, if any, and its memory. */
    public record Domain(
            String name, boolean running, Optional<Path> agentSocket, boolean noSharePages, long memoryMib) {}

    private final List<Domain> domains = new ArrayList<>();

    /** A domain of 1 GiB. */
    public TestDriverHost domain(String name, boolean running, Optional<Path> agentSocket, boolean noSharePages) {
        return domain(name, running, agentSocket, noSharePages, 1024);
    }

    public TestDriverHost domain(
            String name, boolean running, Optional<Path> agentSocket, boolean noSharePages, long memoryMib) {
        domains.add(new Domain(name, running, agentSocket, noSharePages, memoryMib));
        return this;
    }

    /** Writes the node XML to {@code file} and returns the URI that opens it. */
    public String write(Path file) throws IOException {
        StringBuilder xml = new StringBuilder("<node>\n  <cpu><mhz>2000</mhz><model>i686</model><active>4</active>"
                + "<nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads></cpu>\n"
                + "  <memory>67108864</memory>\n");
        int i = 0;
        for (Domain d : domains) {
            i++;
            xml.append("  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n")
                    .append("    <name>")
                    .append(d.name())
                    .append("</name>\n")
                    .append(String.format("    <uuid>5e0c2c0a-7f2f-4e3c-9d43-%012d</uuid>%n", i))
                    .append("    <memory unit='MiB'>")
                    .append(d.memoryMib())
                    .append("</memory><currentMemory unit='MiB'>")
                    .append(d.memoryMib())
                    .append("</currentMemory>\n")
                    .append("    <vcpu>1</vcpu><os><type arch='i686'>hvm</type></os>\n");
            if (d.noSharePages()) {
                xml.append("    <memoryBacking><nosharepages/></memoryBacking>\n");
            }
            xml.append("    <devices>\n");
            d.agentSocket()
                    .ifPresent(socket -> xml.append("      <channel type='unix'><source mode='bind' path='")
                            .append(socket)
                            .append("'/><target type='virtio' name='org.memhygiene.agent.0'/></channel>\n"));
            xml.append("      <memballoon model='virtio' freePageReporting='on'><stats period='5'/></memballoon>\n")
                    .append("    </devices>\n");
            if (!d.running()) {
                xml.append("    <test:runstate>5</test:runstate>\n");
            }
            xml.append("  </domain>\n");
        }
        Files.writeString(file, xml.append("</node>\n").toString());
        return "test://" + file.toAbsolutePath();
    }
}
