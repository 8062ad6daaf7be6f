package org.memhygiene.ui.model;

import java.util.Arrays;
import java.util.List;

/**
 * Samples over time, several named columns sharing one time column, in growable primitive arrays: 24 h
 * at 1 s is 86,400 rows, cheap to append and to downsample. Times are epoch seconds; an unknown figure
 * is NaN. Rows older than the retention are dropped as new ones arrive.
 */
public final class SeriesTable {
    private final List<String> columns;
    private final double retentionSeconds;
    private double[] times = new double[1024];
    private double[][] values;
    private int start;
    private int end;

    public SeriesTable(double retentionSeconds, String... columns) {
        this.columns = List.of(columns);
        this.retentionSeconds = retentionSeconds;
        this.values = new double[columns.length][times.length];
    }

    public List<String> columns() {
        return columns;
    }

    public int column(String name) {
        int i = columns.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no column " + name + " in " + columns);
        }
        return i;
    }

    /** Appends a row; a time before the last row's is ignored (the controller restarted with an older clock). */
    public void add(double timeSeconds, double... row) {
        if (row.length != columns.size()) {
            throw new IllegalArgumentException(
                    "expected " + columns.size() + " values " + columns + ", got " + row.length);
        }
        if (end > start && timeSeconds < times[end - 1]) {
            return;
        }
        if (end == times.length) {
            compactOrGrow();
        }
        times[end] = timeSeconds;
        for (int c = 0; c < row.length; c++) {
            values[c][end] = row[c];
        }
        end++;
        double cutoff = timeSeconds - retentionSeconds;
        while (start < end && times[start] < cutoff) {
            start++;
        }
    }

    /**
     * Merges rows recorded elsewhere (the controller's history, one row per history interval) into the
     * live ones without duplicates: a row is taken only where no row lies within half the merged rows'
     * median spacing of its time, so the denser live rows win where both exist and history fills what
     * the live stream missed (before the dashboard connected, while it was disconnected).
     *
     * @param timesSeconds ascending times, epoch seconds
     * @param rows         one array of {@link #columns()} values per time
     * @return the rows taken
     */
    public int merge(double[] timesSeconds, double[][] rows) {
        if (timesSeconds.length != rows.length) {
            throw new IllegalArgumentException(timesSeconds.length + " times but " + rows.length + " rows");
        }
        double tolerance = halfMedianStep(timesSeconds);
        int size = end - start;
        int capacity = Math.max(1024, (size + rows.length) * 2);
        double[] newTimes = new double[capacity];
        double[][] newValues = new double[values.length][capacity];
        int live = start;
        int out = 0;
        int taken = 0;
        for (int i = 0; i < timesSeconds.length; i++) {
            double t = timesSeconds[i];
            if (rows[i].length != columns.size()) {
                throw new IllegalArgumentException(
                        "expected " + columns.size() + " values " + columns + ", got " + rows[i].length);
            }
            while (live < end && times[live] <= t) {
                copyRow(live++, newTimes, newValues, out++);
            }
            boolean near =
                    (live > start && t - times[live - 1] <= tolerance) || (live < end && times[live] - t <= tolerance);
            if (near) {
                continue;
            }
            newTimes[out] = t;
            for (int c = 0; c < values.length; c++) {
                newValues[c][out] = rows[i][c];
            }
            out++;
            taken++;
        }
        while (live < end) {
            copyRow(live++, newTimes, newValues, out++);
        }
        times = newTimes;
        values = newValues;
        start = 0;
        end = out;
        if (end > 0) {
            double cutoff = times[end - 1] - retentionSeconds;
            while (start < end && times[start] < cutoff) {
                start++;
            }
        }
        return taken;
    }

    private void copyRow(int from, double[] toTimes, double[][] toValues, int to) {
        toTimes[to] = times[from];
        for (int c = 0; c < values.length; c++) {
            toValues[c][to] = values[c][from];
        }
    }

    private static double halfMedianStep(double[] t) {
        if (t.length < 2) {
            return 0.001;
        }
        double[] steps = new double[t.length - 1];
        for (int i = 1; i < t.length; i++) {
            steps[i - 1] = t[i] - t[i - 1];
        }
        Arrays.sort(steps);
        return Math.max(0.001, steps[steps.length / 2] / 2);
    }

    /** The index of the first row at or after {@code timeSeconds} ({@link #size()} when there is none). */
    public int firstAtOrAfter(double timeSeconds) {
        int i = Arrays.binarySearch(times, start, end, timeSeconds);
        if (i < 0) {
            return -i - 1 - start;
        }
        while (i > start && times[i - 1] == timeSeconds) {
            i--;
        }
        return i - start;
    }

    private void compactOrGrow() {
        int size = end - start;
        int capacity = size * 2 > times.length ? times.length * 2 : times.length;
        double[] newTimes = new double[capacity];
        System.arraycopy(times, start, newTimes, 0, size);
        for (int c = 0; c < values.length; c++) {
            double[] column = new double[capacity];
            System.arraycopy(values[c], start, column, 0, size);
            values[c] = column;
        }
        times = newTimes;
        start = 0;
        end = size;
    }

    public int size() {
        return end - start;
    }

    public double time(int row) {
        return times[start + row];
    }

    public double value(int column, int row) {
        return values[column][start + row];
    }

    /** The time column as an array (a copy of the live rows). */
    public double[] times() {
        return Arrays.copyOfRange(times, start, end);
    }

    public double[] values(int column) {
        return Arrays.copyOfRange(values[column], start, end);
    }

    /** The last value of a column, NaN when there is no row. */
    public double last(int column) {
        return end > start ? values[column][end - 1] : Double.NaN;
    }
}
