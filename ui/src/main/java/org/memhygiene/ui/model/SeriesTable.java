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
            throw new IllegalArgumentException("expected " + columns.size() + " values " + columns + ", got " + row.length);
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
