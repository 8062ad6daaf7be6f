package org.memhygiene.controller.policy;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Which policy decides: Debian ksmtuned's rules ({@link BaselinePolicy}), ours ({@link AdaptivePolicy}),
 * or none ({@code off}: KSM and the guests are left to the admin, decisions say so).
 */
public enum PolicyMode {
    BASELINE,
    ADAPTIVE,
    OFF;

    /** The name in the policy file, the API and every output: {@code baseline}, {@code adaptive}. */
    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
