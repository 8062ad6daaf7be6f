package org.memhygiene.controller.policy;

import java.util.Locale;

/**
 * Which policy decides: Debian ksmtuned's rules ({@link BaselinePolicy}), ours ({@link AdaptivePolicy}),
 * or none ({@code off}: KSM and the guests are left to the admin, decisions say so).
 */
public enum PolicyMode {
    BASELINE, ADAPTIVE, OFF;

    /** The name in the policy file and in output: {@code baseline}, {@code adaptive}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
