package org.memhygiene.ui.charts;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import javafx.scene.chart.ValueAxis;
import javafx.util.StringConverter;

/**
 * The time axis of a {@link TimeChart}: epoch seconds, labelled as UTC clock times, spanned by the chart on round
 * times rather than auto-ranged on the points drawn. Written here rather than a NumberAxis (final) for the position
 * of the upper bound: see {@link #getDisplayPosition}.
 */
final class TimeAxis extends ValueAxis<Number> {
    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    /** Steps a tick may take, in seconds: the clock's own, so ticks fall on round times. */
    private static final double[] TICK_STEPS_SECONDS = {
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400
    };

    private static final int MAX_TICKS = 8;
    private static final double SECONDS_PER_DAY = 86400;
    private static final double MINUTE_SECONDS = 60;

    /** What the axis shows, in seconds: from and to on multiples of the tick. */
    private record Span(double fromSeconds, double toSeconds, double tickSeconds) {
        /** The round times around {@code first} to {@code last}, in at most {@link #MAX_TICKS} steps. */
        static Span around(double first, double last) {
            double step = Math.ceil((last - first) / MAX_TICKS / SECONDS_PER_DAY) * SECONDS_PER_DAY;
            for (double candidate : TICK_STEPS_SECONDS) {
                if ((last - first) / candidate <= MAX_TICKS) {
                    step = candidate;
                    break;
                }
            }
            return new Span(Math.floor(first / step) * step, Math.ceil(last / step) * step, step);
        }
    }

    private Span span = new Span(0, MINUTE_SECONDS, MINUTE_SECONDS);

    TimeAxis() {
        super(0, MINUTE_SECONDS);
        setLabel("time (UTC)");
        setTickLabelFormatter(new StringConverter<>() {
            @Override
            public String toString(Number seconds) {
                return CLOCK.format(Instant.ofEpochMilli(Math.round(seconds.doubleValue() * 1000)));
            }

            @Override
            public Number fromString(String text) {
                throw new UnsupportedOperationException("the time axis is not edited");
            }
        });
    }

    /**
     * Spans the times {@code t} (ascending, in seconds) on round times; one time gets the minute around it, and no
     * time leaves the axis as it was.
     */
    void span(double[] t) {
        if (t.length == 0) {
            return;
        }
        double first = t[0];
        double last = t[t.length - 1];
        if (last > first) {
            setRange(Span.around(first, last), false);
        } else {
            double minute = Math.floor(first / MINUTE_SECONDS) * MINUTE_SECONDS;
            setRange(new Span(minute, minute + MINUTE_SECONDS, MINUTE_SECONDS), false);
        }
    }

    /**
     * ValueAxis places a value at (value - lower) * (length / (upper - lower)), which for the upper bound comes out
     * a rounding error past the axis's length at about one whole-pixel length in twenty; Axis then hides that tick
     * and its label, and the chart lost its end time. The upper bound is at the length.
     */
    @Override
    public double getDisplayPosition(Number value) {
        double position = super.getDisplayPosition(value);
        return value.doubleValue() == getUpperBound() ? Math.min(position, getWidth()) : position;
    }

    @Override
    protected void setRange(Object range, boolean animate) {
        span = (Span) range;
        setLowerBound(span.fromSeconds());
        setUpperBound(span.toSeconds());
    }

    @Override
    protected Object getRange() {
        return span;
    }

    @Override
    protected List<Number> calculateTickValues(double length, Object range) {
        Span s = (Span) range;
        List<Number> ticks = new ArrayList<>();
        for (double tick = s.fromSeconds(); tick < s.toSeconds(); tick += s.tickSeconds()) {
            ticks.add(tick);
        }
        ticks.add(s.toSeconds());
        return ticks;
    }

    @Override
    protected List<Number> calculateMinorTickMarks() {
        int perTick = Math.max(1, getMinorTickCount());
        double minor = span.tickSeconds() / perTick;
        List<Number> marks = new ArrayList<>();
        for (double tick = span.fromSeconds(); tick < span.toSeconds(); tick += span.tickSeconds()) {
            for (int i = 1; i < perTick; i++) {
                marks.add(tick + i * minor);
            }
        }
        return marks;
    }

    @Override
    protected String getTickMarkLabel(Number value) {
        return getTickLabelFormatter().toString(value);
    }
}
