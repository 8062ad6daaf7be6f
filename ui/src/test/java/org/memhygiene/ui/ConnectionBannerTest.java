package org.memhygiene.ui;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.memhygiene.ui.FxFixture.fx;
import static org.memhygiene.ui.FxFixture.waitFx;

import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.memhygiene.simulator.SimulatedHost;

/** The banner when the controller goes away, and the reconnection when it comes back on the same port. */
class ConnectionBannerTest {
    @Test
    void bannerShowsWhileTheControllerIsGoneAndTheDashboardReconnects() throws Exception {
        try (FxFixture f = new FxFixture(true)) {
            waitFx(30, () -> f.model.host().size() >= 2);
            assertTrue(!fx(() -> f.window.banner().isVisible()), "no banner while connected");
            int port = f.controller.daemon().apiPort();
            f.controller.close();
            waitFx(20, () -> f.window.banner().isVisible());
            String text = fx(() -> f.window.banner().getText());
            assertTrue(
                    text.startsWith("Lost the connection to the controller at http://127.0.0.1:" + port)
                            && text.contains("Reconnecting in"),
                    text);

            long samples = fx(() -> f.model.revision().get());
            try (BuiltinController again = BuiltinController.start(
                    SimulatedHost.builtin(Clock.systemUTC(), FxFixture.SPEED), FxFixture.INTERVAL, true, port)) {
                waitFx(
                        30,
                        () -> !f.window.banner().isVisible()
                                && f.model.revision().get() > samples);
            }
        }
    }
}
