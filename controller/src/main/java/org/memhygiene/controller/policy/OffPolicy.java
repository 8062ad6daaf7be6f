package org.memhygiene.controller.policy;

import java.util.Optional;
import org.memhygiene.core.host.HostSnapshot;

/** {@code mode: off}: decides nothing, so the admin (or another tool such as ksmtuned) owns KSM and scrubs. */
final class OffPolicy implements Policy {
    @Override
    public Decision decide(Optional<HostSnapshot> previous, HostSnapshot current) {
        return Decision.leaveAsIs(PolicyMode.OFF, "policy off: KSM and the guests are left as they are");
    }

    @Override
    public PolicyMode mode() {
        return PolicyMode.OFF;
    }
}
