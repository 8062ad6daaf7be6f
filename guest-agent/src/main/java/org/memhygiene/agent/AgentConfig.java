package org.memhygiene.agent;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.memhygiene.agent.scrub.ScrubConfig;
import org.memhygiene.core.config.ConfigSection;

/**
 * /etc/memhygiene/agent.yaml (guest-agent/src/main/dist/agent.yaml documents every key): where to serve
 * and the scrub policy. Every key is optional; a missing file is an error only when it was named. Read
 * with the project's one configuration reader ({@link ConfigSection}, over the strict streaming reader: a key
 * given twice, a second document or bytes that are not UTF-8 are errors; no databind, see PlainJson); the
 * YAML parser is loaded only when a file is read. The scrub durations were {@code periodic_interval_millis}
 * and {@code large_free_sample_millis} (the protocol's set-policy still says milliseconds, as numbers); those
 * names are read with a deprecation warning.
 *
 * @param listen where to serve: the virtio-serial device path, unix:PATH or tcp:127.0.0.1:PORT
 * @param scrub  the scrub settings, {@link ScrubConfig#defaults()} with the file's scrub section applied
 */
public record AgentConfig(String listen, ScrubConfig scrub) {
    /** The environment variable memhygiene-agent.service sets to the file's path. */
    public static final String ENVIRONMENT_VARIABLE = "MEMHYGIENE_AGENT_CONFIG";

    private static final System.Logger LOG = System.getLogger(AgentConfig.class.getName());
    private static final List<String> KEYS = List.of("listen", "scrub");
    private static final List<String> SCRUB_KEYS = List.of(
            "min_headroom_bytes",
            "headroom_percent_of_total",
            "pressure_threshold_percent",
            "max_rate_bytes_per_second",
            "periodic_interval",
            "large_free_threshold_bytes",
            "large_free_sample",
            "triggered_max_bytes",
            // the names before they said their unit: read with a deprecation warning
            "periodic_interval_millis",
            "large_free_sample_millis");
    /** The longest interval: a year (a periodic scrub less often is off in all but name). */
    private static final Duration MAX_INTERVAL = Duration.ofDays(365);

    public static AgentConfig defaults() {
        return new AgentConfig(AgentMain.VIRTIO_PORT.toString(), ScrubConfig.defaults());
    }

    /** Reads {@code file}, logging each deprecation warning; every problem is an IllegalArgumentException that starts with the file's path. */
    public static AgentConfig load(Path file) {
        return load(file, warning -> LOG.log(System.Logger.Level.WARNING, file + ": " + warning));
    }

    /** As {@link #load(Path)}, each deprecation warning to {@code warnings}. */
    public static AgentConfig load(Path file, Consumer<String> warnings) {
        try {
            ConfigSection root = ConfigSection.read(file, KEYS, warnings);
            ConfigSection s = root.section("scrub", SCRUB_KEYS);
            ScrubConfig d = ScrubConfig.defaults();
            long triggeredMax = s.bytes("triggered_max_bytes", d.triggeredMaxBytes(), 0);
            ScrubConfig scrub = d.withHeadroom(s.bytes("min_headroom_bytes", d.minHeadroomBytes(), 0), (int)
                            s.whole("headroom_percent_of_total", d.headroomPercentOfTotal(), 0, 100))
                    .withPressureThreshold(
                            s.decimal("pressure_threshold_percent", d.pressureThresholdPercent(), 0, 100))
                    .withMaxRate(s.bytes("max_rate_bytes_per_second", d.maxRateBytesPerSecond(), 0))
                    .withPeriodic(
                            s.renamed(
                                            "periodic_interval",
                                            "periodic_interval_millis",
                                            Duration.ofMillis(d.periodicIntervalMillis()),
                                            Duration.ZERO,
                                            MAX_INTERVAL)
                                    .toMillis(),
                            triggeredMax)
                    .withLargeFree(
                            s.bytes("large_free_threshold_bytes", d.largeFreeThresholdBytes(), 0),
                            s.renamed(
                                            "large_free_sample",
                                            "large_free_sample_millis",
                                            Duration.ofMillis(d.largeFreeSampleMillis()),
                                            Duration.ZERO,
                                            MAX_INTERVAL)
                                    .toMillis(),
                            triggeredMax);
            return new AgentConfig(root.text("listen").orElse(defaults().listen()), scrub);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }
}
