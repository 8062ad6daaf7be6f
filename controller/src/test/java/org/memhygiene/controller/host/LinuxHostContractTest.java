package org.memhygiene.controller.host;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtendWith;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostBackendContract;
import org.memhygiene.core.ksm.KsmHostLock;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmRestorePoint;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.ksm.MergeableMemoryChild;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * The HostBackend contract on the real host: libvirt's test driver (https://libvirt.org/drvtest.html) with
 * the three VMs, the real agent's server on the agent VM's channel socket, and this machine's real KSM.
 * Changes KSM knobs (run it under flock /tmp/memhygiene-ksm.lock) and puts every one back after each test,
 * also when it fails; to make KSM share pages it starts a process with identical mergeable pages.
 */
@ExtendWith(KsmHostLock.class)
class LinuxHostContractTest extends HostBackendContract {
    private static final List<KsmKnob> TOUCHED = List.of(
            KsmKnob.RUN,
            KsmKnob.PAGES_TO_SCAN,
            KsmKnob.SLEEP_MILLISECS,
            KsmKnob.MAX_PAGE_SHARING,
            KsmKnob.MERGE_ACROSS_NODES);
    private static final int IDENTICAL_PAGES = 2048;

    private final KsmSysfs ksm = new KsmSysfs(KsmSysfs.DEFAULT_ROOT, Clock.systemUTC(), LinuxMemory.pageSizeBytes());
    private Path dir;
    private ScheduledExecutorService scheduler;
    private ServerSocketChannel agent;
    private Optional<KsmRestorePoint> restorePoint = Optional.empty();
    private Thread hook;
    private Process child;

    @Override
    protected HostBackend open() throws IOException {
        dir = Files.createTempDirectory("memhygiene-contract");
        scheduler = Executors.newSingleThreadScheduledExecutor();
        Path socket = dir.resolve("agent.sock");
        agent = TestAgent.serve(UnixDomainSocketAddress.of(socket), 50, "contract", scheduler);
        String uri = new TestDriverHost()
                .domain(WITH_AGENT, true, Optional.of(socket), false)
                .domain(WITHOUT_AGENT, true, Optional.empty(), false)
                .domain(STOPPED, false, Optional.of(dir.resolve("off.sock")), false)
                .write(dir.resolve("host.xml"));
        if (Files.isWritable(KsmSysfs.DEFAULT_ROOT.resolve("run"))) {
            restorePoint = Optional.of(KsmRestorePoint.of(ksm, TOUCHED, false));
            hook = restorePoint.get().restoreOnShutdown();
        }
        return new LinuxHost(
                uri,
                Duration.ofSeconds(2),
                Duration.ZERO,
                KsmSysfs.DEFAULT_ROOT,
                ProcessKsmReader.DEFAULT_ROOT,
                Path.of("/sys"),
                Clock.systemUTC());
    }

    @Override
    protected void assumeKsmWritable() {
        Assumptions.assumeTrue(
                restorePoint.isPresent(),
                "skipped: needs root and a kernel with KSM (" + KsmSysfs.DEFAULT_ROOT + "/run not writable)");
    }

    /** A child with identical mergeable pages, KSM scanning fast, until a snapshot shows pages shared. */
    @Override
    protected void untilPagesShared(HostBackend host) throws Exception {
        if (shared(host)) {
            return; // this machine's KSM shares pages already (pages stay merged while run=0)
        }
        child = MergeableMemoryChild.start(IDENTICAL_PAGES, 0);
        host.applyKsm(
                KsmSettings.of(Map.of(KsmKnob.RUN, "1", KsmKnob.PAGES_TO_SCAN, "5000", KsmKnob.SLEEP_MILLISECS, "10")));
        long fullScans = stats(host).fullScans().orElseThrow();
        // Two full scans merge what is identical (a checksum pass, then the merge); allow a third.
        while (!shared(host)) {
            if (stats(host).fullScans().orElseThrow() > fullScans + 3) {
                throw new AssertionError("three full scans and no page shared: " + stats(host));
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    private static KsmStats stats(HostBackend host) {
        return host.snapshot().ksm().orElseThrow().stats();
    }

    private static boolean shared(HostBackend host) {
        return stats(host).pagesShared().orElse(0) > 0;
    }

    @Override
    protected void restore() throws Exception {
        try {
            if (child != null) {
                child.getOutputStream().close();
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            if (restorePoint.isPresent()) {
                restorePoint.get().restore();
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        } finally {
            agent.close();
            scheduler.shutdownNow();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
