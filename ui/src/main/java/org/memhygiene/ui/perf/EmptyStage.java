package org.memhygiene.ui.perf;

import java.lang.management.ManagementFactory;
import java.util.logging.Level;
import java.util.logging.Logger;
import javafx.animation.AnimationTimer;
import javafx.application.Platform;
import javafx.scene.Scene;
import javafx.scene.control.Label;
import javafx.stage.Stage;

/**
 * The cold-start reference of bench/dashboard-perf.sh: the least a JavaFX program can show (one stage,
 * one label) from the same class path and JVM options as the dashboard; prints when its first frame
 * is drawn, in milliseconds since the JVM started, and exits.
 */
public final class EmptyStage {
    private EmptyStage() {}

    /** Held so the level set on it survives garbage collection. */
    private static final Logger JAVAFX_LOG = Logger.getLogger("javafx");

    public static void main(String[] args) {
        JAVAFX_LOG.setLevel(Level.SEVERE); // as the dashboard: no class-path warning
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        Platform.startup(() -> {
            Stage stage = new Stage();
            stage.setScene(new Scene(new Label("reference"), 1280, 800));
            stage.show();
            new AnimationTimer() { // as the dashboard reports it: the second pulse after showing
                private int pulses;

                @Override
                public void handle(long nanos) {
                    if (++pulses == 2) {
                        stop();
                        System.out.println("first-frame-millis=" + (System.currentTimeMillis() - jvmStart));
                        Platform.exit();
                        System.exit(0);
                    }
                }
            }.start();
        });
    }
}
