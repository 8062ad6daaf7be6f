package org.memhygiene.ui.snapshot;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Consumer;
import javafx.animation.PauseTransition;
import javafx.util.Duration;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.ui.export.ChartExport;
import org.memhygiene.ui.frontier.FrontierTask;
import org.memhygiene.ui.model.DashboardModel;
import org.memhygiene.ui.model.VmRow;
import org.memhygiene.ui.views.DashboardView;
import org.memhygiene.ui.views.DashboardWindow;
import org.memhygiene.ui.views.FindingsView;

/**
 * {@code dashboard --snapshot DIR}: waits until the charts have {@link #SAMPLES} samples (and the
 * frontier, if one is being computed), then shows each view in turn and writes it to
 * DIR/NN-view-name.png. Runs on the FX thread, one step per pause, never blocking it.
 */
public final class SnapshotRenderer {
    public static final double WIDTH = 1280;
    public static final double HEIGHT = 800;
    public static final int SAMPLES = 20;
    static final Duration SETTLE = Duration.millis(400);
    static final java.time.Duration GIVE_UP = java.time.Duration.ofSeconds(150);

    private final DashboardWindow window;
    private final DashboardModel model;
    private final Path dir;
    private final Runnable done;
    private final Consumer<String> failed;
    private final long startNanos = System.nanoTime();

    public SnapshotRenderer(
            DashboardWindow window, DashboardModel model, Path dir, Runnable done, Consumer<String> failed) {
        this.window = window;
        this.model = model;
        this.dir = dir;
        this.done = done;
        this.failed = failed;
    }

    /** Renders into {@code dir}, which the command made before any window. */
    public void start() {
        waitForData();
    }

    private void waitForData() {
        boolean frontierPending = model.frontierStatus().get().startsWith(FrontierTask.COMPUTING);
        if (model.host().size() >= SAMPLES && !frontierPending) {
            model.rows().stream()
                    .max(Comparator.comparingLong((VmRow r) -> r.reclaimed().totalBytes()))
                    .ifPresent(r -> window.detail().show(r.vm().name()));
            render(0);
            return;
        }
        if (java.time.Duration.ofNanos(System.nanoTime() - startNanos).compareTo(GIVE_UP) > 0) {
            failed.accept("no data after " + GIVE_UP.toSeconds() + " s: "
                    + model.host().size() + " samples, frontier '"
                    + model.frontierStatus().get() + "', connection: "
                    + model.connection().get().message());
            return;
        }
        later(Duration.millis(200), this::waitForData);
    }

    private void render(int index) {
        if (index == window.views().size()) {
            done.run();
            return;
        }
        window.select(index);
        DashboardView view = window.views().get(index);
        view.refresh();
        later(SETTLE, () -> {
            if (view instanceof FindingsView findings) {
                findings.table().getSelectionModel().clearAndSelect(0); // so the picture shows a finding in full
                findings.table().requestFocus();
            }
            later(Duration.millis(100), () -> write(index, view));
        });
    }

    private void write(int index, DashboardView view) {
        Path file = dir.resolve(String.format("%02d-%s.png", index + 1, DashboardWindow.fileName(view)));
        try {
            ChartExport.png(window.root(), file);
            System.out.println(file);
        } catch (IOException e) {
            failed.accept("cannot write " + file + ": " + Errno.describe(e));
            return;
        }
        render(index + 1);
    }

    private static void later(Duration delay, Runnable step) {
        PauseTransition pause = new PauseTransition(delay);
        pause.setOnFinished(e -> step.run());
        pause.play();
    }
}
