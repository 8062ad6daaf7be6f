package org.memhygiene.simulator;

/** A scenario file that cannot be used: the message names the file, the field and the reason. */
public final class ScenarioException extends IllegalArgumentException {
    private final String field;

    public ScenarioException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
    }

    /** The field's path in the file, e.g. {@code guests[2].hygiene.scrub.rate}. */
    public String field() {
        return field;
    }
}
