package org.memhygiene.ui.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import javafx.geometry.Bounds;
import javafx.scene.Node;
import javafx.scene.text.Text;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.memhygiene.ui.api.VmView;
import org.memhygiene.ui.model.Reclaimed;
import org.memhygiene.ui.model.VmRow;
import org.testfx.api.FxToolkit;

/** The trade-off chart's VM names: each readable beside its point, over no other point or name, inside the plot. */
class TradeoffNamesTest {
    private static final long GIB = 1L << 30;
    /** A name's near end from its point's centre: the chart's gap of 11 px, and a pixel for rounding. */
    private static final double NEAR_PX = 12;
    /** How far below its point a name may go: three VMs at the same figures take two rows. */
    private static final int ROWS = 3;

    @AfterEach
    void close() throws Exception {
        FxToolkit.cleanupStages();
    }

    @Test
    void everyNameIsDrawnInsideThePlotOverNoOtherPointOrNameAtEverySize() throws Exception {
        // The dashboard's snapshot had "build" (48.6 %, 82) under the point of web-2 (52.0 %, 82); a VM that
        // reclaims all of its memory had its name cut at the plot's right edge.
        List<VmRow> rows = List.of(
                vm("vault", 0, 90),
                vm("batch", 24.2, 90),
                vm("cache", 24.6, 90),
                vm("idle", 52.4, 90),
                vm("build", 48.6, 82),
                vm("web-2", 52.0, 82),
                vm("db", 28.8, 80),
                vm("web-1", 24.7, 70),
                vm("twin-1", 60, 40),
                vm("twin-2", 60, 40),
                vm("twin-3", 60, 40),
                vm("all-back", 100, 55),
                vm("nearly-all", 97, 55));
        List<String> problems = TradeoffSizes.problems(rows, 2, (chart, width) -> overlaps(chart));
        assertEquals(List.of(), problems.stream().limit(5).toList(), problems.size() + " problems");
    }

    /**
     * Each name that is not beside its own point (at most {@link #NEAR_PX} from its centre across, within
     * {@link #ROWS} rows of it), leaves the plot's width, or covers a VM's point or another name.
     */
    private static List<String> overlaps(TradeoffChart chart) {
        Bounds plot = scene(chart.lookup(".chart-plot-background"));
        List<Text> names =
                chart.lookupAll(".vm-label").stream().map(Text.class::cast).toList();
        List<Node> points = List.copyOf(chart.lookupAll(".vm-point"));
        List<String> found = new ArrayList<>();
        for (Text name : names) {
            Bounds box = scene(name);
            Bounds own = scene(points.stream()
                    .filter(p -> name.getText().equals(p.getUserData()))
                    .findFirst()
                    .orElseThrow());
            double across = Math.max(box.getMinX() - own.getCenterX(), own.getCenterX() - box.getMaxX());
            if (across < 0
                    || across > NEAR_PX
                    || Math.abs(box.getCenterY() - own.getCenterY()) > ROWS * box.getHeight()) {
                found.add(name.getText() + " at " + box + ", not beside its point at " + own);
            }
            if (box.getMinX() < plot.getMinX() || box.getMaxX() > plot.getMaxX()) {
                found.add(name.getText() + " from " + box.getMinX() + " to " + box.getMaxX()
                        + " px, outside the plot's " + plot.getMinX() + " to " + plot.getMaxX());
            }
            for (Node point : points) {
                if (box.intersects(scene(point))) {
                    found.add(name.getText() + " covers the point of " + point.getUserData());
                }
            }
            for (Text other : names) {
                if (other != name
                        && box.intersects(scene(other))
                        && name.getText().compareTo(other.getText()) < 0) {
                    found.add(name.getText() + " and " + other.getText() + " overlap");
                }
            }
        }
        return found;
    }

    private static Bounds scene(Node node) {
        return node.localToScene(node.getBoundsInLocal());
    }

    private static VmRow vm(String name, double reclaimedPercent, int score) {
        VmView view = new VmView(
                name,
                "uuid-" + name,
                "running",
                GIB,
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty(),
                OptionalLong.empty(),
                false,
                "OK",
                "DENSE",
                OptionalInt.of(score),
                List.of(),
                Optional.empty(),
                Optional.empty());
        return new VmRow(view, new Reclaimed(Math.round(GIB * reclaimedPercent / 100), 0, 0));
    }
}
