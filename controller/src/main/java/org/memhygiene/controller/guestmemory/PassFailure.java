package org.memhygiene.controller.guestmemory;

/** A pass that cannot go on with pagemap; the message is the reason its measurement falls back. */
final class PassFailure extends RuntimeException {
    private final boolean mappingChanged;

    PassFailure(String reason) {
        this(reason, false);
    }

    /** @param mappingChanged the guest RAM mappings changed: the next pass must look for them again */
    PassFailure(String reason, boolean mappingChanged) {
        super(reason);
        this.mappingChanged = mappingChanged;
    }

    boolean mappingChanged() {
        return mappingChanged;
    }
}
