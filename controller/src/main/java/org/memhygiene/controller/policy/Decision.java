package org.memhygiene.controller.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.memhygiene.core.ksm.KsmSettings;

/**
 * What a policy decided for one interval.
 *
 * @param ksm    the KSM knobs to write (through KsmSysfs.apply); empty: leave KSM as it is
 * @param scrubs guests whose agents should zero their free memory, at most the configured number
 * @param mode   the policy that decided
 * @param reason why, with the figures the policy used, for people and logs
 */
public record Decision(Optional<KsmSettings> ksm, List<ScrubRequest> scrubs, PolicyMode mode, String reason) {
    public Decision {
        scrubs = List.copyOf(scrubs);
    }

    public static Decision leaveAsIs(PolicyMode mode, String reason) {
        return new Decision(Optional.empty(), List.of(), mode, reason);
    }

    /** The knobs to write as file name → value in write order; empty when KSM is left as it is. */
    public Map<String, String> ksmAsMap() {
        return ksm.map(KsmSettings::asMap).orElseGet(LinkedHashMap::new);
    }

    /** True when the decision writes nothing and asks no guest for anything. */
    public boolean changesNothing() {
        return ksm.isEmpty() && scrubs.isEmpty();
    }
}
