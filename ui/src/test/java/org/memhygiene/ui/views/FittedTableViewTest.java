package org.memhygiene.ui.views;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.scene.Scene;
import javafx.scene.control.TableColumn;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.memhygiene.ui.DrawnWhole;
import org.memhygiene.ui.views.FittedTableView.Width;
import org.testfx.api.FxToolkit;
import org.testfx.util.WaitForAsyncUtils;

class FittedTableViewTest {
    private static final String LONG_NAME = "a-virtual-machine-with-a-long-name-01";

    @AfterEach
    void close() throws Exception {
        FxToolkit.cleanupStages();
    }

    @Test
    void aColumnFitsRowsThatArriveAfterItsFirstLayoutAndAnExactOneLeavesTheRestToTheOthers() throws Exception {
        FxToolkit.registerPrimaryStage();
        FittedTableView<String> table = WaitForAsyncUtils.asyncFx(() -> {
                    FittedTableView<String> t = new FittedTableView<>();
                    TableColumn<String, String> name = new TableColumn<>("VM");
                    name.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>(c.getValue()));
                    TableColumn<String, String> text = new TableColumn<>("Finding");
                    text.setCellValueFactory(c -> new ReadOnlyObjectWrapper<>("short"));
                    t.getColumns().addAll(List.of(FittedTableView.fitCells(name, Width.EXACTLY), text));
                    return t;
                })
                .get(10, TimeUnit.SECONDS);
        FxToolkit.setupStage((Stage stage) -> {
            stage.setScene(new Scene(table, 900, 300));
            stage.show();
        });
        WaitForAsyncUtils.waitForFxEvents();
        // A new list as empty as the first (the way views set their sorted list), then the rows: the column
        // must follow the rows of the new list.
        ObservableList<String> rows = FXCollections.observableArrayList();
        WaitForAsyncUtils.asyncFx(() -> table.setItems(rows)).get(10, TimeUnit.SECONDS);
        WaitForAsyncUtils.waitForFxEvents();
        WaitForAsyncUtils.asyncFx(() -> rows.setAll(List.of("vm-1", LONG_NAME))).get(10, TimeUnit.SECONDS);
        WaitForAsyncUtils.waitForFxEvents();
        List<String> cut = WaitForAsyncUtils.asyncFx(() -> DrawnWhole.inTable(table, t -> t.equals("VM"), 2))
                .get(10, TimeUnit.SECONDS);
        assertEquals(List.of(), cut);
        double[] widths = WaitForAsyncUtils.asyncFx(() -> new double[] {
                    table.getColumns().get(0).getWidth(),
                    table.getColumns().get(1).getWidth()
                })
                .get(10, TimeUnit.SECONDS);
        assertTrue(
                widths[0] < widths[1],
                "the exact column leaves the rest to the other: " + widths[0] + ", " + widths[1]);
    }
}
