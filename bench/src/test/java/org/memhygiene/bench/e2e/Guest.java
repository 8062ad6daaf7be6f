package org.memhygiene.bench.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * One e2e guest: a libvirt domain made from vm-configs/dense.xml, booted from the e2e image, and the
 * test-only command channel (virtio-serial port org.memhygiene.e2e.0) that runs its workload.
 */
final class Guest implements AutoCloseable {
    static final String URI = "qemu:///system";
    static final String CONTROL_PORT = "org.memhygiene.e2e.0";
    /** The KSM phases' guests (no scrub, scrub, init_on_free). */
    static final long MEMORY_MIB = 512;
    /**
     * The free page reporting guest's and the tuner comparison's guests: smaller than the KSM phases'
     * so that they fill sooner and ksmd's full scans, and with them both tuners' curves, end sooner.
     * The KSM phases keep 512 MiB: with 384 MiB guests more full scans passed during their fill, the
     * freed random data aged further under smart_scan, and a scrubbed guest needed 10-11 of its 12
     * allowed full scans (4-8 at 512 MiB).
     */
    static final long SMALL_GUEST_MIB = 384;

    private static final Pattern CONTROL_SOCKET = Pattern.compile(
            "<source mode='bind' path='([^']+)'/>\\s*<target type='virtio' name='" + Pattern.quote(CONTROL_PORT) + "'");

    /** How a guest is booted: the accelerator, extra kernel parameters, free page reporting, its memory. */
    record Boot(String domainType, String extraCmdline, boolean freePageReporting, long memoryMib) {}

    final String name;
    final Boot boot;
    final Path consoleLog;
    private final ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "e2e-control");
        t.setDaemon(true);
        return t;
    });
    private SocketChannel control;
    private BufferedReader replies;
    private int pid;

    Guest(String name, Boot boot) {
        this.name = name;
        this.boot = boot;
        this.consoleLog = Path.of("/var/log/libvirt/qemu", name + "-console.log");
    }

    /** Defines and starts the domain; does not wait for the guest. */
    static Guest start(Path denseXml, Path image, String name, Boot boot) throws Exception {
        Guest guest = new Guest(name, boot);
        Files.deleteIfExists(guest.consoleLog);
        Path xml = Files.createTempFile("memhygiene-e2e-" + name, ".xml");
        Files.writeString(xml, guest.domainXml(denseXml, image));
        virsh("define", xml.toString());
        Files.delete(xml);
        try {
            virsh("start", name);
        } catch (RuntimeException e) {
            guest.close();
            throw e;
        }
        return guest;
    }

    /** dense.xml with this run's name, memory, one vCPU, direct kernel boot, a console log and the control port. */
    String domainXml(Path denseXml, Path image) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = factory.newDocumentBuilder().parse(denseXml.toFile());
        Element domain = doc.getDocumentElement();
        domain.setAttribute("type", boot.domainType());
        text(domain, "name", name);
        for (String memory : List.of("memory", "currentMemory")) {
            Element e = child(domain, memory);
            e.setAttribute("unit", "MiB");
            e.setTextContent(Long.toString(boot.memoryMib()));
        }
        text(domain, "vcpu", "1");
        // sensitive.xml's <locked/> makes libvirt raise QEMU's RLIMIT_MEMLOCK, which this machine refuses ("cannot
        // limit locked memory ...: Operation not permitted": its container has no CAP_SYS_RESOURCE); the suite
        // keeps what it measures, <nosharepages/>, and drops <locked/> with the hard_limit it needs.
        for (Node n = domain.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element backing && backing.getTagName().equals("memoryBacking")) {
                remove(backing, "locked");
            }
        }
        remove(domain, "memtune");
        Element os = child(domain, "os");
        remove(os, "boot");
        append(os, "kernel", image.resolve("vmlinuz").toString());
        append(os, "initrd", image.resolve("initrd.img").toString());
        append(os, "cmdline", ("console=ttyS0 panic=-1 " + boot.extraCmdline()).trim());
        if (boot.domainType().equals("qemu")) {
            remove(domain, "cpu"); // TCG has no host CPU model; QEMU's default (qemu64) it is
        }
        Element devices = child(domain, "devices");
        remove(devices, "disk");
        remove(devices, "serial");
        remove(devices, "console");
        child(devices, "memballoon").setAttribute("freePageReporting", boot.freePageReporting() ? "on" : "off");
        Element channel = append(devices, "channel", null);
        channel.setAttribute("type", "unix");
        append(channel, "source", null).setAttribute("mode", "bind");
        Element target = append(channel, "target", null);
        target.setAttribute("type", "virtio");
        target.setAttribute("name", CONTROL_PORT);
        Element serial = append(devices, "serial", null);
        serial.setAttribute("type", "file");
        append(serial, "source", null).setAttribute("path", consoleLog.toString());
        StringWriter out = new StringWriter();
        var transformer = TransformerFactory.newInstance().newTransformer();
        transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        transformer.transform(new DOMSource(doc), new StreamResult(out));
        return out.toString();
    }

    /** Waits until the guest's kernel ran our /init (the console says so), or gives up after timeout. */
    boolean waitForInit(Duration timeout) throws InterruptedException {
        return waitForConsole("memhygiene-e2e: init reached", timeout);
    }

    boolean waitForConsole(String marker, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (console().contains(marker)) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    String console() {
        try {
            return Files.exists(consoleLog) ? Files.readString(consoleLog, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The QEMU process, from the pid file libvirt keeps. */
    int pid() {
        if (pid == 0) {
            pid = Integer.parseInt(
                    HostMeters.read(Path.of("/run/libvirt/qemu", name + ".pid")).trim());
        }
        return pid;
    }

    HostMeters.ProcessSample sample() {
        return HostMeters.process(pid());
    }

    /** Runs a shell command in the guest over the control port; returns its output, fails on a non-zero exit. */
    synchronized String sh(String command, Duration timeout) throws Exception {
        if (control == null) {
            Matcher m = CONTROL_SOCKET.matcher(virsh("dumpxml", name));
            if (!m.find()) {
                throw new IllegalStateException(name + ": no " + CONTROL_PORT + " socket in the live XML");
            }
            control = SocketChannel.open(StandardProtocolFamily.UNIX);
            control.connect(UnixDomainSocketAddress.of(m.group(1)));
            replies =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(control), StandardCharsets.UTF_8));
        }
        control.write(ByteBuffer.wrap((command.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8)));
        Future<String> reply = reader.submit(() -> {
            StringBuilder out = new StringBuilder();
            for (String line; (line = replies.readLine()) != null; ) {
                if (line.startsWith("__rc=")) {
                    if (!line.equals("__rc=0")) {
                        throw new IllegalStateException(
                                name + ": `" + command + "` exited " + line.substring(5) + ": " + out);
                    }
                    return out.toString();
                }
                out.append(line).append('\n');
            }
            throw new IllegalStateException(name + ": control port closed during `" + command + "`");
        });
        try {
            return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            reply.cancel(true);
            throw new IllegalStateException(name + ": `" + command + "` took more than " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** Waits until the control port answers. */
    void waitForControl(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                sh("true", Duration.ofSeconds(5));
                return;
            } catch (Exception e) {
                closeControl();
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            name + ": control port did not answer within " + timeout.toSeconds() + " s", e);
                }
                Thread.sleep(500);
            }
        }
    }

    Map<String, Long> meminfo() throws Exception {
        Path tmp = Files.createTempFile("meminfo", "");
        Files.writeString(tmp, sh("cat /proc/meminfo", Duration.ofSeconds(20)));
        Map<String, Long> values = HostMeters.keyValues(tmp, ":");
        Files.delete(tmp);
        return values;
    }

    /** The guest's non-idle CPU time so far (/proc/stat "cpu" line minus idle and iowait), in milliseconds. */
    long cpuMillis() throws Exception {
        String[] f = sh("head -1 /proc/stat", Duration.ofSeconds(20)).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
            if (i != 4 && i != 5) {
                total += Long.parseLong(f[i]);
            }
        }
        return total * 10; // USER_HZ = 100
    }

    private void closeControl() {
        try {
            if (control != null) {
                control.close();
            }
        } catch (IOException e) {
            // closing a broken socket
        }
        control = null;
    }

    @Override
    public void close() {
        closeControl();
        reader.shutdownNow();
        try {
            virshQuietly("destroy", name);
            virshQuietly("undefine", name);
        } catch (Exception e) {
            // the trap in run.sh destroys whatever is left
        }
    }

    static String virsh(String... args) {
        List<String> command = new ArrayList<>(List.of("virsh", "-q", "-c", URI));
        command.addAll(List.of(args));
        return Cli.run(command, Duration.ofSeconds(60)).orThrow();
    }

    static void virshQuietly(String... args) {
        List<String> command = new ArrayList<>(List.of("virsh", "-q", "-c", URI));
        command.addAll(List.of(args));
        Cli.run(command, Duration.ofSeconds(60));
    }

    private static Element child(Element parent, String tag) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                return e;
            }
        }
        throw new IllegalArgumentException("vm-configs/dense.xml: no <" + tag + "> in <" + parent.getTagName() + ">");
    }

    private static void text(Element parent, String tag, String value) {
        child(parent, tag).setTextContent(value);
    }

    private static void remove(Element parent, String tag) {
        for (Node n = parent.getFirstChild(); n != null; ) {
            Node next = n.getNextSibling();
            if (n instanceof Element e && e.getTagName().equals(tag)) {
                parent.removeChild(e);
            }
            n = next;
        }
    }

    private static Element append(Element parent, String tag, String value) {
        Element e = parent.getOwnerDocument().createElement(tag);
        if (value != null) {
            e.setTextContent(value);
        }
        parent.appendChild(e);
        return e;
    }

    static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
