package org.memhygiene.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The controller reports each VM's KSM savings as its QEMU process's ksm_stat says:
 * {@code bin/memhygiene vms --json} against /proc/PID/ksm_stat read just before and after, within 1 %,
 * one check per guest. ksmd is stopped meanwhile (merged pages stay merged) and started again.
 */
final class ControllerKsmStatPhase implements Phase<ControllerKsmStatPhase.Result> {
    record Result(List<Check> checks) implements PhaseResult {}

    private final RealVmFixture fixture;
    private final List<Guest> guests;

    ControllerKsmStatPhase(RealVmFixture fixture, List<Guest> guests) {
        this.fixture = fixture;
        this.guests = guests;
    }

    @Override
    public Result run() throws Exception {
        HostMeters.setKsm("run", 0); // merged pages stay merged; the figures hold still while both are read
        try {
            Map<String, Long> before = new LinkedHashMap<>();
            for (Guest g : guests) {
                before.put(g.name, g.sample().ksmSavedBytes());
            }
            JsonNode vms = fixture.command()
                    .json("vms", "--uri", Guest.URI, "--agent-timeout", "30s", "--json")
                    .path("vms");
            List<Check> checks = new ArrayList<>();
            for (Guest g : guests) {
                long stat = g.sample().ksmSavedBytes();
                JsonNode vm = null;
                for (JsonNode v : vms) {
                    if (v.path("domain").path("name").asText().equals(g.name)) {
                        vm = v;
                    }
                }
                long reported = vm == null ? -1 : vm.path("ksm_saved_bytes").asLong(-1);
                // ksmd is stopped, but a running guest still writes to merged pages (copy-on-write unmerges
                // them), so the controller's reading lies between the two taken around it.
                long low = Math.min(stat, before.get(g.name));
                long high = Math.max(stat, before.get(g.name));
                checks.add(Check.of(
                        vm != null && reported >= low - 0.01 * low && reported <= high + 0.01 * high,
                        "%s: controller (vms --uri qemu:///system --json) reports ksm_saved_bytes %s; /proc/%d/ksm_stat read before and after: %s, %s (within 1 %%); agent %s",
                        g.name,
                        Mib.format(reported),
                        g.pid(),
                        Mib.format(before.get(g.name)),
                        Mib.format(stat),
                        vm == null ? "?" : vm.path("agent").path("status").asText()));
            }
            return new Result(checks);
        } finally {
            HostMeters.setKsm("run", 1);
        }
    }
}
