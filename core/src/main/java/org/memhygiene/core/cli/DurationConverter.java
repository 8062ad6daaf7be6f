package org.memhygiene.core.cli;

import java.time.Duration;
import org.memhygiene.core.units.Durations;
import picocli.CommandLine;

/** A duration option: "500ms", "2s", "1m", "1h"; a bare number is seconds. Zero is refused: it would spin or do nothing. */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        Duration duration;
        try {
            duration = Durations.parse(value, "s");
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
        if (duration.isZero()) {
            throw new CommandLine.TypeConversionException("'" + value + "' must be longer than zero");
        }
        return duration;
    }
}
