package org.memhygiene.core.config;

/**
 * A mistake in a configuration file: the message names the key, the value and what was expected;
 * {@link #key()} is where it is ({@code history.retention}, {@code guests[2].memory}; empty for the file itself).
 */
public class ConfigException extends IllegalArgumentException {
    private final String key;

    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    public ConfigException(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
