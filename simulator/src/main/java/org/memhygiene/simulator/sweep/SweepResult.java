package org.memhygiene.simulator.sweep;

import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.simulator.Exposure;
import org.memhygiene.simulator.scenario.HygieneMode;

/**
 * One cell of a sweep: the scenario run with one policy and every guest in one hygiene mode.
 *
 * @param label          "policy / mode"
 * @param reclaimedBytes memory given back to the host at the end (sharing + zero pages + free page reporting)
 * @param exposure       the exposure figures at the end (staleSecretPageSeconds integrates the whole run)
 * @param finalSnapshot  the host at the end, for the controller's posture scorer
 * @param frontier       no other cell reclaims at least as much with no more cross-VM sharing and no
 *                       more stale-secret page-seconds (the reclaimed-vs-exposure frontier)
 */
public record SweepResult(
        String label,
        String policy,
        KsmSettings settings,
        HygieneMode hygieneMode,
        long reclaimedBytes,
        Exposure exposure,
        HostSnapshot finalSnapshot,
        boolean frontier) {

    SweepResult onFrontier(boolean onIt) {
        return new SweepResult(label, policy, settings, hygieneMode, reclaimedBytes, exposure, finalSnapshot, onIt);
    }
}
