package org.memhygiene.controller.policy;

import org.memhygiene.core.agent.ScrubReport;

/**
 * A scrub the daemon knows of directly, with the agent's report: one the policy asked for, or one asked
 * through the API. Scrubs asked any other way (the CLI's {@code vm scrub}, the agent's own schedule) are
 * seen in the agent's scrub counters instead; {@link ReclaimBoost} counts each scrub once.
 *
 * @param vmUuid the domain's UUID
 * @param vmName the domain's name, for people
 * @param source who asked
 * @param report what the agent did
 */
public record KnownScrub(String vmUuid, String vmName, Source source, ScrubReport report) {

    /** Who asked for a scrub the daemon knows of directly. */
    public enum Source {
        POLICY("asked by the policy"),
        API("asked through the API");

        private final String description;

        Source(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }
}
