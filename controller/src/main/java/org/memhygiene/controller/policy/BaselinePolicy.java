package org.memhygiene.controller.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.memhygiene.core.host.HostMemory;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.units.ByteSize;

/**
 * The baseline mode: {@link KsmtunedBaseline} (Debian ksmtuned's rules) fed from host samples. Inputs,
 * in KiB as ksmtuned reads them: MemTotal; free = MemFree + Buffers + Cached; committed = for each
 * domain with a QEMU process, its QEMU RSS from the balloon statistics (libvirt's {@code rss}) when
 * present, else its current memory. ksmtuned sums the RSS of {@code qemu-system.*-enable-kvm}
 * processes; libvirt's rss is that same RSS, without ksmtuned's blind spot for {@code -accel kvm}. A
 * domain without balloon statistics counts with its whole current memory, the most its QEMU holds for
 * guest RAM. Like ksmtuned it writes its knobs at every interval and never asks guests to scrub.
 */
public final class BaselinePolicy implements Policy {
    private static final long KIB = 1024;
    private final KsmtunedBaseline baseline;

    public BaselinePolicy(KsmtunedConfig config) {
        this.baseline = new KsmtunedBaseline(config);
    }

    /** What ksmtuned would read from this sample; empty without the host's /proc/meminfo. */
    public static Optional<KsmtunedBaseline.Input> input(HostSnapshot snapshot) {
        return snapshot.memory()
                .map(memory -> new KsmtunedBaseline.Input(
                        memory.memTotalBytes() / KIB,
                        HostFigures.freeBytes(memory) / KIB,
                        HostFigures.committedRssBytes(snapshot) / KIB));
    }

    @Override
    public Decision decide(Optional<HostSnapshot> previous, HostSnapshot current) {
        if (current.ksm().isEmpty()) {
            return Decision.leaveAsIs(
                    mode(),
                    "no KSM on this host (no /sys/kernel/mm/ksm, or libvirt's host is"
                            + " another machine): nothing to decide");
        }
        Optional<KsmtunedBaseline.Input> input = input(current);
        if (input.isEmpty()) {
            return Decision.leaveAsIs(mode(), "no /proc/meminfo for this host: ksmtuned's rules cannot run");
        }
        HostMemory memory = current.memory().get();
        KsmtunedBaseline.Decision d = baseline.adjust(input.get());
        Map<KsmKnob, String> knobs = new LinkedHashMap<>();
        if (d.run()) {
            knobs.put(KsmKnob.PAGES_TO_SCAN, Long.toString(d.pagesToScan()));
            knobs.put(KsmKnob.SLEEP_MILLISECS, Long.toString(d.sleepMillisecs()));
            knobs.put(KsmKnob.RUN, Long.toString(KsmKnob.RUN_MERGE));
        } else {
            knobs.put(KsmKnob.RUN, Long.toString(KsmKnob.RUN_STOP));
        }
        String reason =
                "ksmtuned rules: MemTotal " + ByteSize.format(memory.memTotalBytes()) + ", free (MemFree+Buffers"
                        + "+Cached) " + ByteSize.format(HostFigures.freeBytes(memory)) + ", committed (QEMU RSS) "
                        + ByteSize.format(HostFigures.committedRssBytes(current)) + "; " + d.reason() + " → "
                        + (d.run()
                                ? "run=1 pages_to_scan=" + d.pagesToScan() + " sleep_millisecs=" + d.sleepMillisecs()
                                : "run=0 (merged pages stay merged)");
        return new Decision(Optional.of(KsmSettings.of(knobs)), List.of(), mode(), reason);
    }

    @Override
    public PolicyMode mode() {
        return PolicyMode.BASELINE;
    }
}
