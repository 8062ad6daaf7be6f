package org.memhygiene.ui.views;

import java.util.List;
import javafx.scene.Node;
import javafx.scene.chart.XYChart;

/** One view of the dashboard (a tab): its node, how it redraws, and what File → Export takes from it. */
public interface DashboardView {
    String title();

    Node node();

    /** Redraws from the model; called on the FX thread after a sample while the view is shown. */
    void refresh();

    /** The view's charts, for PNG and CSV export; empty for a view without charts (a table). */
    List<XYChart<Number, Number>> charts();

    /** What a PNG export of this view shows. */
    default Node exportNode() {
        return node();
    }
}
