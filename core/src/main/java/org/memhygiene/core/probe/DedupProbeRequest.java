package org.memhygiene.core.probe;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.util.List;
import org.memhygiene.core.canary.CanaryBounds;

/**
 * What a deduplication probe is asked to do (docs/POSTURE.md, "The deduplication canary").
 *
 * @param vms       the VMs to probe by name or UUID; empty: every running VM with an agent
 * @param pages     canary pages per VM (and as many control pages); bounded by {@link CanaryBounds}
 * @param fullScans the full scans of ksmd to wait for after planting: a page merges in the second scan that
 *                  sees it unchanged, and a scan may be under way when the canary is planted, so 3
 * @param deadline  the longest wait for those full scans; the probe measures what merged by then
 */
public record DedupProbeRequest(
        List<String> vms,
        int pages,
        int fullScans,
        @JsonIgnore Duration deadline) {
    public static final int DEFAULT_FULL_SCANS = 3;
    public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(15);
    public static final Duration MAX_DEADLINE = Duration.ofMinutes(50);

    public DedupProbeRequest {
        vms = List.copyOf(vms);
        if (pages < 1 || pages > CanaryBounds.MAX_PAGES) {
            throw new IllegalArgumentException(
                    "pages = " + pages + ": expected 1 to " + CanaryBounds.MAX_PAGES + " canary pages");
        }
        if (fullScans < 1 || fullScans > 10) {
            throw new IllegalArgumentException("full_scans = " + fullScans + ": expected 1 to 10");
        }
        if (deadline.isNegative() || deadline.compareTo(MAX_DEADLINE) > 0) {
            throw new IllegalArgumentException(
                    "deadline = " + deadline.toSeconds() + "s: expected 0s to " + MAX_DEADLINE.toMinutes() + "m");
        }
    }

    /** The deadline in JSON, with its unit in its name. */
    @JsonProperty("deadline_seconds")
    public long deadlineSeconds() {
        return deadline.toSeconds();
    }

    public static DedupProbeRequest of(List<String> vms, int pages) {
        return new DedupProbeRequest(vms, pages, DEFAULT_FULL_SCANS, DEFAULT_DEADLINE);
    }
}
