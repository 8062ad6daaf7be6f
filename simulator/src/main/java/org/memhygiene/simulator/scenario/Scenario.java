package org.memhygiene.simulator.scenario;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.posture.SwapDevice;

/**
 * A parsed, validated scenario file (docs/SIMULATOR.md).
 *
 * @param source           where it came from, for describe() and messages
 * @param duration         how long {@code sim run} simulates by default
 * @param sampleInterval   simulated time between two rows of {@code sim run}
 * @param speed            simulated seconds per real second for a SimulatedHost on a real clock
 * @param ksm              initial knob values (validated text, as sysfs takes it)
 * @param contentGroups    identical content spread over guests, beyond their images' sharing
 */
public record Scenario(
        String name,
        String description,
        String source,
        long seed,
        Duration duration,
        Duration sampleInterval,
        double speed,
        Host host,
        Map<KsmKnob, String> ksm,
        List<GuestSpec> guests,
        List<ContentGroup> contentGroups,
        List<EventSpec> events) {

    public Scenario {
        guests = List.copyOf(guests);
        contentGroups = List.copyOf(contentGroups);
        events = List.copyOf(events);
    }

    /** Pages of content groups the guest holds (after its secret pages). */
    public long groupPages(String guest) {
        long pages = 0;
        for (ContentGroup c : contentGroups) {
            int position = c.guests().indexOf(guest);
            if (position >= 0) {
                pages += c.pagesOf(position);
            }
        }
        return pages;
    }

    /**
     * @param memoryBytes        host RAM; 0 = the guests' memory plus 8 GiB
     * @param pageSizeBytes      the simulated page size (default: this machine's)
     * @param ksmdNanosPerPage   CPU time ksmd spends per page scanned (calibrated, docs/SIMULATOR.md)
     * @param hz                 the kernel's CONFIG_HZ: ksmd sleeps whole jiffies (msecs_to_jiffies)
     * @param memoryPressurePercent the host's memory pressure, PSI "some avg10" (/proc/pressure/memory)
     * @param swapBytes          the host's swap; 0 = none
     * @param swapKind           what protects it (zram, dm-crypt, or nothing)
     */
    public record Host(
            long memoryBytes,
            long pageSizeBytes,
            double ksmdNanosPerPage,
            int hz,
            double memoryPressurePercent,
            long swapBytes,
            SwapDevice.Kind swapKind) {}

    public Scenario withGuests(List<GuestSpec> newGuests) {
        return new Scenario(
                name,
                description,
                source,
                seed,
                duration,
                sampleInterval,
                speed,
                host,
                ksm,
                newGuests,
                contentGroups,
                events);
    }

    public Scenario withEvents(List<EventSpec> newEvents) {
        return new Scenario(
                name,
                description,
                source,
                seed,
                duration,
                sampleInterval,
                speed,
                host,
                ksm,
                guests,
                contentGroups,
                newEvents);
    }

    public Scenario withKsm(Map<KsmKnob, String> newKsm) {
        return new Scenario(
                name,
                description,
                source,
                seed,
                duration,
                sampleInterval,
                speed,
                host,
                newKsm,
                guests,
                contentGroups,
                events);
    }
}
