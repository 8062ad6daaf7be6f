package org.memhygiene.ui.charts;

import java.util.ArrayList;
import java.util.List;
import javafx.scene.chart.ValueAxis;
import javafx.util.StringConverter;

/**
 * A value axis whose bounds and tick step its chart sets, never auto-ranged: a tick at the lower bound, one every
 * step after it, and one at the upper bound. Written here rather than using NumberAxis (final) for the upper
 * bound's position: see {@link #getDisplayPosition}.
 */
final class FixedAxis extends ValueAxis<Number> {
    /** What the axis shows: the lower bound on a multiple of the step. */
    private record Range(double lower, double upper, double step) {
        Range {
            // The ticks are counted from lower to upper by the step: anything else would never end.
            if (!(upper > lower) || !(step > 0) || (upper - lower) / step > MAX_TICKS) {
                throw new IllegalArgumentException("axis from " + lower + " to " + upper + " by " + step
                        + ": expected lower < upper and a positive step, at most " + MAX_TICKS + " ticks");
            }
        }
    }

    private static final int MAX_TICKS = 1000;

    private Range range;

    FixedAxis(String label, double lower, double upper, double step, StringConverter<Number> tickLabels) {
        super(lower, upper);
        range = new Range(lower, upper, step);
        setLabel(label);
        setTickLabelFormatter(tickLabels);
    }

    void span(double lower, double upper, double step) {
        setRange(new Range(lower, upper, step), false);
    }

    /**
     * ValueAxis places the upper bound at (upper - lower) * (length / (upper - lower)) along the axis, which comes
     * out a rounding error past its length at about one whole-pixel length in twenty; Axis then hides that tick and
     * its label, and a chart lost its end time or its "100". The upper bound is at the axis's end.
     */
    @Override
    public double getDisplayPosition(Number value) {
        double position = super.getDisplayPosition(value);
        if (value.doubleValue() != getUpperBound()) {
            return position;
        }
        return getSide().isVertical() ? Math.max(position, 0) : Math.min(position, getWidth());
    }

    @Override
    protected void setRange(Object newRange, boolean animate) {
        range = (Range) newRange;
        setLowerBound(range.lower());
        setUpperBound(range.upper());
    }

    @Override
    protected Object getRange() {
        return range;
    }

    @Override
    protected List<Number> calculateTickValues(double length, Object ticked) {
        Range r = (Range) ticked;
        List<Number> ticks = new ArrayList<>();
        for (double tick = r.lower(); tick < r.upper(); tick += r.step()) {
            ticks.add(tick);
        }
        ticks.add(r.upper());
        return ticks;
    }

    @Override
    protected List<Number> calculateMinorTickMarks() {
        int perStep = Math.max(1, getMinorTickCount());
        double minor = range.step() / perStep;
        List<Number> marks = new ArrayList<>();
        for (double tick = range.lower(); tick < range.upper(); tick += range.step()) {
            for (int i = 1; i < perStep; i++) {
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
