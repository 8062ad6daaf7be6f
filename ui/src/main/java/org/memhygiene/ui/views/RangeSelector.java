package org.memhygiene.ui.views;

import java.time.Duration;
import javafx.beans.property.ObjectProperty;
import javafx.geometry.Pos;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.layout.HBox;
import javafx.util.StringConverter;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.DashboardModel.HistoryStatus;

/**
 * The time range a view shows (15 min … 24 h, shared by the overview and the VM detail; Alt+R focuses
 * it, the arrow keys choose), with the state of the history load it starts: progress while loading, the
 * error style when it failed.
 */
final class RangeSelector {
    private final ComboBox<Duration> range = new ComboBox<>();
    private final ProgressIndicator loading = new ProgressIndicator();
    private final Label status = new Label();
    private final HBox node;

    RangeSelector(DashboardModel model, ObjectProperty<HistoryStatus> history, String id) {
        range.getItems().setAll(DashboardModel.RANGES);
        range.setId(id);
        range.setConverter(new StringConverter<>() {
            @Override
            public String toString(Duration d) {
                return d == null ? "" : d.toHours() >= 1 ? d.toHours() + " h" : d.toMinutes() + " min";
            }

            @Override
            public Duration fromString(String text) {
                throw new UnsupportedOperationException("the range is chosen, not typed");
            }
        });
        range.setValue(model.range().get());
        range.valueProperty().addListener((o, was, now) -> {
            if (now != null && !now.equals(model.range().get())) {
                model.range().set(now);
            }
        });
        model.range().addListener((o, was, now) -> range.setValue(now));
        Label label = new Label("_Range");
        label.setMnemonicParsing(true);
        label.setLabelFor(range);
        loading.setMaxSize(16, 16);
        status.setId(id + "-status");
        history.addListener((o, was, now) -> show(now));
        show(history.get());
        node = new HBox(6, label, range, loading, status);
        node.setAlignment(Pos.CENTER_LEFT);
    }

    private void show(HistoryStatus now) {
        loading.setVisible(now.loading());
        loading.setManaged(now.loading());
        status.setText(now.text());
        if (now.failed()) {
            if (!status.getStyleClass().contains("error")) {
                status.getStyleClass().add("error");
            }
        } else {
            status.getStyleClass().remove("error");
        }
    }

    HBox node() {
        return node;
    }
}
