package org.memhygiene.controller.policy;

import java.util.Locale;

/** Which policy decides: Debian ksmtuned's rules ({@link BaselinePolicy}) or ours ({@link AdaptivePolicy}). */
public enum PolicyMode {
    BASELINE, ADAPTIVE;

    /** The name in the policy file and in output: {@code baseline}, {@code adaptive}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
