package org.memhygiene.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The e2e suite's domains are vm-configs/dense.xml with the run's settings, and stay valid libvirt XML. */
class GuestDomainXmlTest {
    private static final Path DENSE = Path.of(System.getProperty("basedir", "."))
            .toAbsolutePath()
            .getParent()
            .resolve("vm-configs/dense.xml");

    @TempDir
    Path dir;

    @Test
    void tcgGuestBootsTheImageWithoutAHostCpuModelAndWithTheControlPort() throws Exception {
        String xml = new Guest("memhygiene-e2e-t", new Guest.Boot("qemu", "init_on_free=1", false, 512))
                .domainXml(DENSE, Path.of("/img"));
        assertTrue(xml.contains("<domain type=\"qemu\">"), xml);
        assertTrue(xml.contains("<name>memhygiene-e2e-t</name>"), xml);
        assertTrue(xml.contains("<memory unit=\"MiB\">512</memory>"), xml);
        assertTrue(xml.contains("<vcpu placement=\"static\">1</vcpu>"), xml);
        assertTrue(
                xml.contains("<kernel>/img/vmlinuz</kernel>") && xml.contains("<initrd>/img/initrd.img</initrd>"), xml);
        assertTrue(xml.contains("<cmdline>console=ttyS0 panic=-1 init_on_free=1</cmdline>"), xml);
        assertTrue(xml.contains("freePageReporting=\"off\""), xml);
        assertTrue(
                xml.contains("name=\"org.memhygiene.agent.0\"") && xml.contains("name=\"org.memhygiene.e2e.0\""), xml);
        assertTrue(xml.contains("level=\"dense\""), xml);
        assertFalse(xml.contains("<cpu") || xml.contains("<disk") || xml.contains("<boot"), xml);
        validates(xml);
    }

    @Test
    void kvmGuestKeepsDenseXmlsCpuModelAndFreePageReporting() throws Exception {
        String xml =
                new Guest("memhygiene-e2e-k", new Guest.Boot("kvm", "", true, 384)).domainXml(DENSE, Path.of("/img"));
        assertTrue(xml.contains("<domain type=\"kvm\">"), xml);
        assertTrue(
                xml.contains("<memory unit=\"MiB\">384</memory>")
                        && xml.contains("<currentMemory unit=\"MiB\">384</currentMemory>"),
                xml);
        assertTrue(xml.contains("<cpu mode=\"host-model\"/>"), xml);
        assertTrue(xml.contains("freePageReporting=\"on\""), xml);
        assertTrue(xml.contains("<cmdline>console=ttyS0 panic=-1</cmdline>"), xml);
        validates(xml);
    }

    private void validates(String xml) throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(Path.of("/usr/bin/virt-xml-validate")),
                "skipped: needs virt-xml-validate (Debian libvirt-clients)");
        Path file = dir.resolve("domain.xml");
        Files.writeString(file, xml);
        Process p = new ProcessBuilder("virt-xml-validate", file.toString(), "domain")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out + "\n" + xml);
    }
}
