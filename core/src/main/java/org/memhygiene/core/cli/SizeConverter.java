package org.memhygiene.core.cli;

import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;

/** A size option: "4096", "512M", "2G" (powers of 1024, {@link ByteSize#parse}); anything else is a usage error. */
public final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return ByteSize.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
