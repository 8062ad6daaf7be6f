package org.memhygiene.core.cli;

import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;

/**
 * A size option: "4096", "512M", "2G" (powers of 1024, {@link ByteSize#parse}); anything else is a usage
 * error, and so is zero: every size option is a most-this-much (--max-bytes), and at most nothing is a
 * request that can only fail.
 */
public final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        long bytes;
        try {
            bytes = ByteSize.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
        if (bytes == 0) {
            throw new CommandLine.TypeConversionException("'" + value + "' must be more than zero bytes");
        }
        return bytes;
    }
}
