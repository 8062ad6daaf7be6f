package org.memhygiene.ui;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Whether a PNG shows drawn content: not one flat colour, and a fair share of pixels off the background.
 * Shared with the command module's SnapshotIT through ui's test jar.
 */
public final class SnapshotCheck {
    private SnapshotCheck() {}

    public static boolean drawn(Path png) throws IOException {
        return stats(png).drawn();
    }

    public record Stats(int width, int height, int colours, double offBackgroundFraction) {
        public boolean drawn() {
            return width >= 400 && height >= 300 && colours >= 16 && offBackgroundFraction >= 0.02;
        }
    }

    public static Stats stats(Path png) throws IOException {
        BufferedImage image = ImageIO.read(png.toFile());
        if (image == null) {
            throw new IOException(png + " is not an image");
        }
        Map<Integer, Integer> counts = new HashMap<>();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                counts.merge(image.getRGB(x, y), 1, Integer::sum);
            }
        }
        int background = counts.values().stream().max(Integer::compare).orElse(0);
        double total = (double) image.getWidth() * image.getHeight();
        return new Stats(image.getWidth(), image.getHeight(), counts.size(), 1 - background / total);
    }
}
