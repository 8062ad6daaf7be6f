package org.memhygiene.bench.e2e;

import static org.memhygiene.bench.e2e.RealVmFixture.log;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The suite's guests: boots them from vm-configs/dense.xml and the image (the run's first boot tries
 * KVM and falls back to TCG, saying why), waits until their agents serve, fills their memory and
 * destroys them. {@link #closeAll} destroys every guest still running; were this JVM to die first,
 * e2e/run.sh's cleanup destroys every memhygiene-e2e-* domain.
 */
final class Fleet {
    static final Duration KVM_BOOT_TIMEOUT = Duration.ofSeconds(20);
    static final Duration READY_TIMEOUT = Duration.ofSeconds(150);
    /** Left free when filling a guest: its kernel, the agent's JVM and the scrub's headroom need it. */
    static final long FILL_SPARE_BYTES = 72 * Mib.BYTES;

    private final Path denseXml;
    private final Path image;
    private final String accelPreference;
    private final MemhygieneCommand command;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "e2e");
        t.setDaemon(true);
        return t;
    });
    private final List<Guest> live = new ArrayList<>();
    private String domainType;
    private String accelNote;

    Fleet(Path repo, Path image, String accelPreference, MemhygieneCommand command) {
        this.denseXml = repo.resolve("vm-configs/dense.xml");
        this.image = image;
        this.accelPreference = accelPreference;
        this.command = command;
    }

    /** Which accelerator the guests run under and why; null before the first boot. */
    String accelNote() {
        return accelNote;
    }

    /** Defines and starts a guest; does not wait for it. The run's first boot decides KVM or TCG. */
    Guest boot(String name, String cmdline, boolean freePageReporting, long memoryMib) throws Exception {
        if (domainType == null) {
            return bootFirst(name, cmdline, freePageReporting, memoryMib);
        }
        return start(name, cmdline, freePageReporting, memoryMib);
    }

    /**
     * Defines and starts a guest from another of vm-configs/ (e.g. sensitive.xml), after a guest from
     * dense.xml decided KVM or TCG.
     */
    Guest bootFrom(String vmConfig, String name, long memoryMib) throws Exception {
        if (domainType == null) {
            throw new IllegalStateException("boot a dense.xml guest first: it decides KVM or TCG");
        }
        Guest g = Guest.start(
                denseXml.resolveSibling(vmConfig), image, name, new Guest.Boot(domainType, "", false, memoryMib));
        synchronized (this) {
            live.add(g);
        }
        return g;
    }

    private Guest bootFirst(String name, String cmdline, boolean fpr, long memoryMib) throws Exception {
        boolean kvmUsable = Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
        if (accelPreference.equals("tcg") || (!kvmUsable && accelPreference.equals("auto"))) {
            domainType = "qemu";
            accelNote = "TCG (" + (accelPreference.equals("tcg") ? "--accel tcg" : "/dev/kvm not usable") + ")";
            return start(name, cmdline, fpr, memoryMib);
        }
        domainType = "kvm";
        String why;
        try {
            Guest g = start(name, cmdline, fpr, memoryMib);
            if (g.waitForInit(KVM_BOOT_TIMEOUT)) {
                accelNote = "KVM";
                return g;
            }
            why = "the guest did not reach /init within " + KVM_BOOT_TIMEOUT.toSeconds() + " s under KVM";
            close(g);
        } catch (RuntimeException e) {
            why = "the KVM domain did not start: " + qemuError(name);
        }
        if (accelPreference.equals("kvm")) {
            throw new IllegalStateException("--accel kvm: " + why);
        }
        domainType = "qemu";
        accelNote = "TCG, KVM fallback (" + why + ")";
        log("%s", accelNote);
        return start(name, cmdline, fpr, memoryMib);
    }

    private Guest start(String name, String cmdline, boolean fpr, long memoryMib) throws Exception {
        Guest g = Guest.start(denseXml, image, name, new Guest.Boot(domainType, cmdline, fpr, memoryMib));
        synchronized (this) {
            live.add(g);
        }
        return g;
    }

    /** QEMU's own error lines from libvirt's log of the domain (why a start failed). */
    private static String qemuError(String name) {
        try {
            List<String> errors = Files.readAllLines(Path.of("/var/log/libvirt/qemu", name + ".log")).stream()
                    .filter(l -> l.contains("qemu-system")
                            && l.toLowerCase(Locale.ROOT).contains("error"))
                    .toList();
            return errors.isEmpty()
                    ? "see /var/log/libvirt/qemu/" + name + ".log"
                    : errors.get(errors.size() - 1).replaceAll("^\\S+Z ", "");
        } catch (Exception e) {
            return "see /var/log/libvirt/qemu/" + name + ".log";
        }
    }

    /** Waits until each guest ran /init, answers on its control port and its agent answers the controller. */
    void ready(List<Guest> guests) throws Exception {
        long began = System.nanoTime();
        parallel(guests, g -> {
            if (!g.waitForInit(READY_TIMEOUT)) {
                throw new IllegalStateException(g.name + ": did not reach /init; console: " + tail(g.console()));
            }
            g.waitForControl(READY_TIMEOUT);
            if (!g.waitForConsole("memhygiene-agent: serving on", READY_TIMEOUT)) {
                throw new IllegalStateException(g.name + ": agent did not start; console: " + tail(g.console()));
            }
            // The first request makes a cold JVM under TCG load its JSON classes: seconds. Once, here,
            // through the controller's agent link, so that later calls meet a warm agent.
            command.run("agent", "ping", g.name, "--uri", Guest.URI, "--agent-timeout", "60s");
            return null;
        });
        log(
                "%d guest(s) up with their agents in %d s (%s)",
                guests.size(), (System.nanoTime() - began) / 1_000_000_000, accelNote);
    }

    /** Fills most of each guest's free memory with random data in tmpfs; returns the bytes written. */
    Map<String, Long> fill(List<Guest> guests) throws Exception {
        Map<String, Long> freed = new LinkedHashMap<>();
        long began = System.nanoTime();
        parallel(guests, g -> {
            long bytes = (g.meminfo().get("MemAvailable") * 1024 - FILL_SPARE_BYTES) / Mib.BYTES * Mib.BYTES;
            g.sh("head -c " + bytes + " /dev/urandom > /dev/shm/fill", Duration.ofMinutes(3));
            synchronized (freed) {
                freed.put(g.name, bytes);
            }
            return null;
        });
        log("filled %s with random data in %d s", Mib.format(freed), (System.nanoTime() - began) / 1_000_000_000);
        return freed;
    }

    interface GuestTask {
        Object apply(Guest g) throws Exception;
    }

    /** Runs the task on every guest at once; the first failure is thrown once all are done. */
    void parallel(List<Guest> guests, GuestTask task) throws Exception {
        List<Future<Object>> futures = new ArrayList<>();
        for (Guest g : guests) {
            Callable<Object> c = () -> task.apply(g);
            futures.add(pool.submit(c));
        }
        for (Future<Object> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception ex ? ex : e;
            }
        }
    }

    /** Each guest's QEMU RSS now. */
    static Map<String, Long> rss(List<Guest> guests) {
        Map<String, Long> rss = new LinkedHashMap<>();
        for (Guest g : guests) {
            rss.put(g.name, g.sample().rssBytes());
        }
        return rss;
    }

    /** Each guest's own non-idle CPU time so far ({@link Guest#cpuMillis}). */
    static Map<String, Long> cpu(List<Guest> guests) throws Exception {
        Map<String, Long> cpu = new LinkedHashMap<>();
        for (Guest g : guests) {
            cpu.put(g.name, g.cpuMillis());
        }
        return cpu;
    }

    void close(Guest g) {
        synchronized (this) {
            live.remove(g);
        }
        g.close();
    }

    /** Destroys every guest at once (libvirt waits up to 10 s for each QEMU to exit on SIGTERM). */
    synchronized void closeAll() {
        List<Thread> closing = new ArrayList<>();
        for (Guest g : List.copyOf(live)) {
            Thread t = new Thread(g::close, "close-" + g.name);
            t.start();
            closing.add(t);
        }
        for (Thread t : closing) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        live.clear();
    }

    private static String tail(String console) {
        String[] lines = console.split("\n");
        return String.join(" / ", Arrays.copyOfRange(lines, Math.max(0, lines.length - 5), lines.length));
    }
}
