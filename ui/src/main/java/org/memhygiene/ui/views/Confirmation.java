package org.memhygiene.ui.views;

import javafx.scene.Node;
import javafx.scene.control.Alert;
import javafx.scene.control.ButtonType;

/** Every action of the dashboard that changes the controller's host asks first, showing the call it will make. */
final class Confirmation {
    private Confirmation() {}

    /** True when the user pressed OK; the dialog belongs to {@code owner}'s window. */
    static boolean ask(Node owner, String header, String content) {
        Alert alert = new Alert(Alert.AlertType.CONFIRMATION, content, ButtonType.OK, ButtonType.CANCEL);
        alert.setTitle("Confirm");
        alert.setHeaderText(header);
        if (owner.getScene() != null) {
            alert.initOwner(owner.getScene().getWindow());
        }
        return alert.showAndWait().filter(b -> b == ButtonType.OK).isPresent();
    }
}
