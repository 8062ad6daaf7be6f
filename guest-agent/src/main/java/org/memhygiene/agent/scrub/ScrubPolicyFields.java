package org.memhygiene.agent.scrub;

import java.util.Map;
import java.util.Set;
import org.memhygiene.core.agent.ScrubPolicy;
import org.memhygiene.core.json.PlainJson;

/**
 * Reads the policy fields of {@link ScrubPolicy} (by their snake_case names) into a {@link ScrubConfig}: the
 * host's set-policy request (docs/PROTOCOL.md), where every value is a JSON number. agent.yaml's scrub section,
 * written by a person with units, is read by AgentConfig.
 */
public final class ScrubPolicyFields {
    private enum Kind {
        BYTES,
        MILLIS,
        PERCENT,
        INTEGER_PERCENT
    }

    private static final Map<String, Kind> FIELDS = Map.of(
            "min_headroom_bytes", Kind.BYTES,
            "headroom_percent_of_total", Kind.INTEGER_PERCENT,
            "pressure_threshold_percent", Kind.PERCENT,
            "max_rate_bytes_per_second", Kind.BYTES,
            "periodic_interval_millis", Kind.MILLIS,
            "large_free_threshold_bytes", Kind.BYTES,
            "large_free_sample_millis", Kind.MILLIS,
            "triggered_max_bytes", Kind.BYTES);
    public static final Set<String> NAMES = FIELDS.keySet();
    /** The longest interval a millisecond field takes: a year (a periodic scrub less often is off in all but name). */
    private static final long MAX_MILLIS = 365L * 24 * 3600 * 1000;

    private ScrubPolicyFields() {}

    /** The policy part of {@code config}. */
    public static ScrubPolicy policyOf(ScrubConfig config) {
        return new ScrubPolicy(
                config.minHeadroomBytes(),
                config.headroomPercentOfTotal(),
                config.pressureThresholdPercent(),
                config.maxRateBytesPerSecond(),
                config.periodicIntervalMillis(),
                config.largeFreeThresholdBytes(),
                config.largeFreeSampleMillis(),
                config.triggeredMaxBytes());
    }

    /**
     * {@code base} with the fields of {@code object} (a {@link PlainJson} value: a Map, or null for none)
     * applied; fields it lacks keep their value. An
     * unknown field, a value of the wrong type or out of range is an IllegalArgumentException naming the
     * field, the value and what was expected; then nothing is applied.
     */
    public static ScrubConfig apply(ScrubConfig base, Object object) {
        if (object == null) {
            return base;
        }
        if (!(object instanceof Map<?, ?> fields)) {
            throw new IllegalArgumentException(
                    "the scrub policy must be an object of " + NAMES + ", was " + PlainJson.toJson(object));
        }
        ScrubPolicy p = policyOf(base);
        long minHeadroom = p.minHeadroomBytes();
        int headroomPercent = p.headroomPercentOfTotal();
        double pressure = p.pressureThresholdPercent();
        long rate = p.maxRateBytesPerSecond();
        long periodic = p.periodicIntervalMillis();
        long largeFree = p.largeFreeThresholdBytes();
        long sample = p.largeFreeSampleMillis();
        long triggeredMax = p.triggeredMaxBytes();
        for (Map.Entry<?, ?> field : fields.entrySet()) {
            String name = (String) field.getKey();
            Kind kind = FIELDS.get(name);
            if (kind == null) {
                throw new IllegalArgumentException("unknown scrub policy field \"" + abbreviate(name)
                        + "\"; expected one of " + NAMES.stream().sorted().toList());
            }
            Object value = field.getValue();
            switch (name) {
                case "min_headroom_bytes" -> minHeadroom = whole(name, value, kind);
                case "headroom_percent_of_total" -> headroomPercent = (int) whole(name, value, kind);
                case "pressure_threshold_percent" -> pressure = decimal(name, value);
                case "max_rate_bytes_per_second" -> rate = whole(name, value, kind);
                case "periodic_interval_millis" -> periodic = whole(name, value, kind);
                case "large_free_threshold_bytes" -> largeFree = whole(name, value, kind);
                case "large_free_sample_millis" -> sample = whole(name, value, kind);
                default -> triggeredMax = whole(name, value, kind);
            }
        }
        return base.withHeadroom(minHeadroom, headroomPercent)
                .withPressureThreshold(pressure)
                .withMaxRate(rate)
                .withPeriodic(periodic, triggeredMax)
                .withLargeFree(largeFree, sample, triggeredMax);
    }

    /** A whole number of the field's kind, range-checked before it is narrowed or stored. */
    private static long whole(String name, Object value, Kind kind) {
        long number;
        if (PlainJson.isLong(value)) {
            number = ((Number) value).longValue();
        } else {
            throw new IllegalArgumentException(name + " = " + abbreviate(PlainJson.toJson(value)) + ": expected "
                    + switch (kind) {
                        case BYTES -> "a whole number of bytes";
                        case MILLIS -> "a whole number of milliseconds";
                        default -> "a whole number";
                    });
        }
        long max = switch (kind) {
            case MILLIS -> MAX_MILLIS;
            case INTEGER_PERCENT -> 100;
            default -> Long.MAX_VALUE;
        };
        if (number < 0 || number > max) {
            throw new IllegalArgumentException(name + " = " + abbreviate(PlainJson.toJson(value)) + ": expected "
                    + (kind == Kind.MILLIS ? "0 to " + MAX_MILLIS + " milliseconds (a year)" : "0 to " + max));
        }
        return number;
    }

    private static double decimal(String name, Object value) {
        if (!(value instanceof Number number)) {
            throw new IllegalArgumentException(
                    name + " = " + abbreviate(PlainJson.toJson(value)) + ": expected a number");
        }
        return number.doubleValue();
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
