package org.memhygiene.controller.policy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.memhygiene.core.config.ConfigSection;

/**
 * The KSM policy file, /etc/memhygiene/policy.yaml (controller/src/main/dist/policy.yaml documents every
 * key with its default). Every key is optional. An unknown key, a key given twice, a value of the wrong
 * type or out of range is an IllegalArgumentException that starts with the file's path and names the key, the value
 * and what was expected.
 *
 * @param mode     which policy decides
 * @param interval time between two decisions (ksmtuned's KSM_MONITOR_INTERVAL in baseline mode)
 * @param ksmtuned ksmtuned's settings, for the baseline mode
 * @param adaptive the adaptive mode's thresholds and bounds
 * @param scrub    when the adaptive mode asks guests to scrub
 * @param reclaimBoost how the adaptive mode makes ksmd reach scrubbed memory
 */
public record PolicyConfig(
        PolicyMode mode,
        Duration interval,
        KsmtunedConfig ksmtuned,
        AdaptiveConfig adaptive,
        ScrubRules scrub,
        ReclaimBoostConfig reclaimBoost) {

    private static final long UINT_MAX = 4_294_967_295L;
    private static final List<String> ROOT_KEYS =
            List.of("mode", "interval", "ksmtuned", "adaptive", "scrub", "reclaim_boost");
    private static final List<String> KSMTUNED_KEYS = List.of(
            "npages_boost", "npages_decay", "npages_min", "npages_max", "sleep_msec", "thres_coef", "thres_const_kib");
    private static final List<String> ADAPTIVE_KEYS = List.of(
            "memory_tight_below_percent",
            "memory_plentiful_above_percent",
            "cpu_budget_percent",
            "yield_good",
            "yield_low",
            "yield_low_intervals",
            "yield_min_pages_scanned",
            "pages_to_scan_min",
            "pages_to_scan_max",
            "sleep_millisecs_min",
            "sleep_millisecs_max",
            "no_yield_retry");
    private static final List<String> SCRUB_KEYS = List.of(
            "enabled",
            "min_guest_free_bytes",
            "max_bytes_per_request",
            "max_requests_per_decision",
            "min_interval_per_vm");
    private static final List<String> BOOST_KEYS = List.of(
            "enabled",
            "disable_smart_scan",
            "min_growth_percent",
            "max_full_scans",
            "max_duration",
            "init_on_free_min_percent");

    public static PolicyConfig defaults() {
        return new PolicyConfig(
                PolicyMode.ADAPTIVE,
                Duration.ofSeconds(60),
                KsmtunedConfig.DEFAULTS,
                AdaptiveConfig.DEFAULTS,
                ScrubRules.DEFAULTS,
                ReclaimBoostConfig.DEFAULTS);
    }

    /** A new policy of the configured mode, with no history. */
    public Policy policy() {
        return switch (mode) {
            case BASELINE -> new BaselinePolicy(ksmtuned);
            case ADAPTIVE -> new AdaptivePolicy(adaptive, scrub, reclaimBoost);
            case OFF -> new OffPolicy();
        };
    }

    /** The same settings with another mode (the API switches modes at runtime). */
    public PolicyConfig withMode(PolicyMode newMode) {
        return new PolicyConfig(newMode, interval, ksmtuned, adaptive, scrub, reclaimBoost);
    }

    /** Reads {@code file}; see the class comment for errors. */
    public static PolicyConfig load(Path file) {
        try {
            return parse(ConfigSection.read(file, ROOT_KEYS, warning -> {}));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static PolicyConfig parse(ConfigSection top) {
        PolicyConfig d = defaults();
        PolicyMode mode = d.mode;
        Optional<Object> modeValue = top.value("mode");
        if (modeValue.isPresent()) {
            String text = modeValue.get() instanceof String word ? word.toUpperCase(Locale.ROOT) : "";
            mode = Arrays.stream(PolicyMode.values())
                    .filter(m -> m.name().equals(text))
                    .findFirst()
                    .orElseThrow(() -> top.wrong(
                            "mode",
                            modeValue.get(),
                            "one of "
                                    + Arrays.stream(PolicyMode.values())
                                            .map(PolicyMode::label)
                                            .toList()));
        }
        Duration interval = top.duration("interval", d.interval, Duration.ofSeconds(1), Duration.ofHours(1));

        ConfigSection k = top.section("ksmtuned", KSMTUNED_KEYS);
        KsmtunedConfig t = d.ksmtuned;
        long npagesBoost = k.whole("npages_boost", t.npagesBoost(), 0, UINT_MAX);
        long npagesDecay = k.whole("npages_decay", t.npagesDecay(), -UINT_MAX, 0);
        long npagesMin = k.whole("npages_min", t.npagesMin(), 0, UINT_MAX);
        long npagesMax = k.whole("npages_max", t.npagesMax(), 0, UINT_MAX);
        if (npagesMin > npagesMax) {
            throw new IllegalArgumentException(
                    "ksmtuned.npages_min (" + npagesMin + ") must not exceed ksmtuned.npages_max (" + npagesMax + ")");
        }
        KsmtunedConfig ksmtuned = new KsmtunedConfig(
                Math.max(1, interval.toSeconds()),
                npagesBoost,
                npagesDecay,
                npagesMin,
                npagesMax,
                k.whole("sleep_msec", t.sleepMillisecsAt16Gib(), 0, UINT_MAX),
                k.whole("thres_coef", t.thresholdPercent(), 0, 100),
                k.whole("thres_const_kib", t.thresholdMinimumKib(), 0, Long.MAX_VALUE / 2));

        ConfigSection a = top.section("adaptive", ADAPTIVE_KEYS);
        AdaptiveConfig ad = d.adaptive;
        AdaptiveConfig adaptive = new AdaptiveConfig(
                (int) a.whole("memory_tight_below_percent", ad.memoryTightBelowPercent(), 0, 100),
                (int) a.whole("memory_plentiful_above_percent", ad.memoryPlentifulAbovePercent(), 0, 100),
                a.decimal("cpu_budget_percent", ad.cpuBudgetPercent(), 0.1, 100),
                a.decimal("yield_good", ad.yieldGood(), 0, 1),
                a.decimal("yield_low", ad.yieldLow(), 0, 1),
                (int) a.whole("yield_low_intervals", ad.yieldLowIntervals(), 1, 1000),
                a.whole("yield_min_pages_scanned", ad.yieldMinPagesScanned(), 1, UINT_MAX),
                a.whole("pages_to_scan_min", ad.pagesToScanMin(), 1, UINT_MAX),
                a.whole("pages_to_scan_max", ad.pagesToScanMax(), 1, UINT_MAX),
                a.whole("sleep_millisecs_min", ad.sleepMillisecsMin(), 1, UINT_MAX),
                a.whole("sleep_millisecs_max", ad.sleepMillisecsMax(), 1, UINT_MAX),
                a.duration("no_yield_retry", ad.noYieldRetry(), Duration.ofSeconds(1), Duration.ofDays(7)));

        ConfigSection s = top.section("scrub", SCRUB_KEYS);
        ScrubRules sd = d.scrub;
        ScrubRules scrub = new ScrubRules(
                s.bool("enabled", sd.enabled()),
                s.bytes("min_guest_free_bytes", sd.minGuestFreeBytes(), 0),
                s.bytes("max_bytes_per_request", sd.maxBytesPerRequest(), 1L << 20),
                (int) s.whole("max_requests_per_decision", sd.maxRequestsPerDecision(), 0, 1000),
                s.duration("min_interval_per_vm", sd.minIntervalPerVm(), Duration.ZERO, Duration.ofDays(7)));

        ConfigSection b = top.section("reclaim_boost", BOOST_KEYS);
        ReclaimBoostConfig bd = d.reclaimBoost;
        ReclaimBoostConfig reclaimBoost = new ReclaimBoostConfig(
                b.bool("enabled", bd.enabled()),
                b.bool("disable_smart_scan", bd.disableSmartScan()),
                b.decimal("min_growth_percent", bd.minGrowthPercent(), 0, 100),
                (int) b.whole("max_full_scans", bd.maxFullScans(), ReclaimBoost.FULL_SCANS_BEFORE_JUDGING, 1000),
                b.duration("max_duration", bd.maxDuration(), Duration.ofMinutes(1), Duration.ofDays(1)),
                b.decimal("init_on_free_min_percent", bd.initOnFreeMinPercent(), 0, 100));
        return new PolicyConfig(mode, interval, ksmtuned, adaptive, scrub, reclaimBoost);
    }
}
