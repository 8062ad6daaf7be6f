package org.memhygiene.controller.libvirt;

import java.nio.file.Path;
import java.time.Duration;

/** URIs of libvirt's test driver (https://libvirt.org/drvtest.html) for the tests. */
final class TestHosts {
    static final String DEFAULT = "test:///default";
    /** Opened afresh per connection: each test sees the file's state, not another test's changes. */
    static final String FILE =
            "test://" + Path.of("src/test/resources/libvirt/test-host.xml").toAbsolutePath();

    static final ReconnectPolicy FAST = new ReconnectPolicy(Duration.ofMillis(1), Duration.ofMillis(4), 3);

    private TestHosts() {}

    static LibvirtHost open(String uri) {
        return new LibvirtHost(uri, FAST, d -> Thread.sleep(d.toMillis()));
    }
}
