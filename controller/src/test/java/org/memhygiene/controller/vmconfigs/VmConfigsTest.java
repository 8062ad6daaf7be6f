package org.memhygiene.controller.vmconfigs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.memhygiene.controller.libvirt.DomainXmlParser;
import org.memhygiene.core.host.DomainXml;

/**
 * Every shipped domain in vm-configs/ validates against libvirt's schema, defines on the test driver, and
 * reads back through the controller's own parser as the posture it is meant to be.
 */
class VmConfigsTest {
    private static final Path VM_CONFIGS = Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath()
            .getParent()
            .resolve("vm-configs");

    static Stream<Path> domains() throws IOException {
        try (Stream<Path> files = Files.list(VM_CONFIGS)) {
            List<Path> xml =
                    files.filter(f -> f.toString().endsWith(".xml")).sorted().toList();
            assertEquals(3, xml.size(), "dense, balanced and sensitive: " + xml);
            return xml.stream();
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    @ParameterizedTest
    @MethodSource("domains")
    void validatesAgainstLibvirtsSchema(Path domain) throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/virt-xml-validate"))
                        && Files.isExecutable(Path.of("/usr/bin/xmllint")),
                "skipped: needs virt-xml-validate and xmllint (Debian libvirt-clients, libxml2-utils)");
        assertTrue(run("virt-xml-validate", domain.toString(), "domain").contains("validates"));
    }

    @ParameterizedTest
    @MethodSource("domains")
    void definesOnTheTestDriverWithItsPostureAndAgentChannel(Path domain) throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/virsh")), "skipped: needs virsh (Debian libvirt-clients)");
        String name = "memhygiene-" + domain.getFileName().toString().replace(".xml", "");
        // test:///default is private to this virsh process: define, then read the definition back.
        String xml = run("virsh", "-q", "-c", "test:///default", "define " + domain + "; dumpxml " + name);
        String level = domain.getFileName().toString().replace(".xml", "");
        assertTrue(xml.contains("level=\"" + level + "\""), xml);
        assertTrue(xml.contains("name='org.memhygiene.agent.0'"), xml);
        assertEquals(level.equals("sensitive"), xml.contains("<nosharepages/>"), xml);
        assertEquals(!level.equals("sensitive"), xml.contains("freePageReporting='on'"), xml);
    }

    @ParameterizedTest
    @MethodSource("domains")
    void theControllerReadsThePostureEachOneIntends(Path domain) throws Exception {
        String level = domain.getFileName().toString().replace(".xml", "");
        DomainXml parsed = new DomainXmlParser().parse(level, Files.readString(domain));
        boolean sensitive = level.equals("sensitive");
        assertEquals(
                level.toUpperCase(Locale.ROOT), parsed.posture().orElseThrow().name(), domain + ": posture");
        assertTrue(parsed.agentChannel().isPresent(), domain + ": agent channel");
        assertEquals(sensitive, parsed.memoryBacking().noSharePages(), domain + ": nosharepages");
        assertEquals(sensitive, parsed.memoryBacking().locked(), domain + ": locked");
        assertEquals(!sensitive, parsed.balloon().orElseThrow().freePageReporting(), domain + ": freePageReporting");
        assertEquals(5, parsed.balloon().orElseThrow().statsPeriodSeconds().orElseThrow(), domain + ": stats period");
    }
}
