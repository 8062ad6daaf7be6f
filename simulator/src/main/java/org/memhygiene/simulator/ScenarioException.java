package org.memhygiene.simulator;

import org.memhygiene.core.config.ConfigException;

/** A scenario file that cannot be used: the message names the file, the field and the reason. */
public final class ScenarioException extends IllegalArgumentException {
    private final String field;

    public ScenarioException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
    }

    /** A mistake the configuration reader found in {@code source}: its message, with the file named. */
    public ScenarioException(ConfigException e, String source) {
        super(e.getMessage() + " (in " + source + ")", e);
        this.field = e.key();
    }

    /** The field's path in the file, e.g. {@code guests[2].hygiene.scrub.rate}. */
    public String field() {
        return field;
    }
}
