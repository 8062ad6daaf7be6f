package org.memhygiene.core.cli;

/**
 * How memhygiene's processes log: one line per record on stderr, "2026-12-08 00:14:32+0000 WARNING
 * org.memhygiene.controller.host.SourceTracker: source libvirt is down: …". The JDK's default writes two
 * lines, the time in the JVM's locale and 12-hour clock on the first and the level and message on the
 * second, so under systemd each record became two journal entries and the level's line lost its source.
 */
public final class LogLines {
    /** Time with its UTC offset, level, logger, message, then the exception (with its stack trace) if any. */
    private static final String FORMAT = "%1$tF %1$tT%1$tz %4$s %3$s: %5$s%6$s%n";

    private static final String PROPERTY = "java.util.logging.SimpleFormatter.format";

    private LogLines() {}

    /**
     * Sets java.util.logging's format, which System.Logger uses, unless the command line set it. Call
     * first in main: the format is read when the first record is logged.
     */
    public static void install() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, FORMAT);
        }
    }
}
