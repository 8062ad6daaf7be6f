package org.memhygiene.bench.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.memhygiene.bench.e2e.RealVmFixture.assertHeld;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;

/**
 * The end-to-end proof on real VMs (docs/RESULTS.md): guests from vm-configs/dense.xml under libvirt's
 * qemu:///system, the guest agent in them, real KSM on this host. Run by failsafe in bench's e2e profile
 * (./mvnw -B verify; under TCG where /dev/kvm is not usable) and by e2e/run.sh (the JUnit console
 * launcher); skipped, with the reason, where it cannot run (not root, no KSM).
 *
 * <p>One test per {@link Phase}, in order. Phases that measure the same guests share them: each
 * {@link GuestGroup} is one group of guests, booted and filled in its {@code @BeforeAll} and destroyed
 * in its {@code @AfterAll}, before the next group boots. A phase that builds on another's result is skipped
 * when that one did not complete; a failed check fails only its phase's test. The results markdown is
 * written after the last phase, also when one failed, and e2e/run.sh then cleans up.
 */
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
class RealVmIT {
    private static RealVmFixture fixture;

    @BeforeAll
    static void prepareHost() throws Exception {
        fixture = RealVmFixture.start();
    }

    @AfterAll
    static void writeResultsAndCleanUp() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
    }

    /** KSM at a fixed rate over two dense guests and one with init_on_free=1 ({@link DenseGuests}). */
    @GuestGroup
    @Order(1)
    class DenseGuestsUnderKsm {
        private DenseGuests guests;
        private NoScrubPhase.Result noScrub;

        @BeforeAll
        void bootAndFill() throws Exception {
            guests = fixture.setUp("dense guests: boot and fill", () -> DenseGuests.bootAndFill(fixture));
        }

        @Test
        @Order(1)
        void freedRandomDataStaysOnTheHostWithoutAScrub() throws Exception {
            noScrub = fixture.measure(new NoScrubPhase(fixture, guests));
            assertHeld(noScrub);
        }

        @Test
        @Order(2)
        void theAgentsScrubGivesFreedMemoryBackThroughKsm() throws Exception {
            assumeTrue(noScrub != null, "needs the no-scrub phase's free and watch, which did not complete");
            assertHeld(fixture.measure(new AgentScrubPhase(fixture, guests, noScrub)));
        }

        @Test
        @Order(3)
        void theControllerReportsEachVmsKsmStat() throws Exception {
            assertHeld(fixture.measure(new ControllerKsmStatPhase(fixture, guests.all())));
        }

        @AfterAll
        void destroyGuests() {
            fixture.destroyGuests();
            fixture.lap("1 controller vs ksm_stat, guests destroyed");
        }
    }

    /** KSM reset and stopped while the free page reporting guest and ksmtuned's pair boot ({@link KsmStoppedGuests}). */
    @GuestGroup
    @Order(2)
    class GuestsBootedWithKsmStopped {
        private KsmStoppedGuests guests;

        @BeforeAll
        void bootAndFill() throws Exception {
            guests = fixture.setUp(
                    "free page reporting guest and ksmtuned's pair: boot and fill",
                    () -> KsmStoppedGuests.bootAndFill(fixture));
        }

        /** Free page reporting gives back at least 90 % of what the guest freed, with KSM stopped. */
        @Test
        @Order(1)
        void freePageReportingGivesFreedMemoryBackWithoutKsm() throws Exception {
            assertHeld(fixture.measure(new FreePageReportingPhase(fixture, guests)));
        }

        @Test
        @Order(2)
        void ksmtunedAndTheAdaptivePolicyRunUndisturbed() throws Exception {
            assertHeld(fixture.measure(new TunerComparisonPhase(fixture, guests)));
        }

        @AfterAll
        void destroyGuests() {
            fixture.destroyGuests();
        }
    }

    /** Two guests from vm-configs/dense.xml and one from vm-configs/sensitive.xml, idle ({@link DedupCanaryPhase}). */
    @GuestGroup
    @Order(3)
    class DeduplicationCanary {
        private Guest dense1;
        private Guest dense2;
        private Guest sensitive;

        @BeforeAll
        void boot() throws Exception {
            fixture.setUp("dedup canary guests: boot", () -> {
                Fleet fleet = fixture.fleet();
                dense1 = fleet.boot("memhygiene-e2e-canary-1", "", false, Guest.SMALL_GUEST_MIB);
                dense2 = fleet.boot("memhygiene-e2e-canary-2", "", false, Guest.SMALL_GUEST_MIB);
                sensitive = fleet.bootFrom("sensitive.xml", "memhygiene-e2e-sensitive", Guest.SMALL_GUEST_MIB);
                fleet.ready(List.of(dense1, dense2, sensitive));
                fixture.lap("3 boot (2 dense guests, 1 sensitive)");
                return null;
            });
        }

        /** Cross-VM merging measured: host truth and the guests' timing, in three cases. */
        @Test
        @Order(1)
        void theCanaryMeasuresCrossVmMergingWhereItHappensAndOnlyThere() throws Exception {
            assertHeld(fixture.measure(new DedupCanaryPhase(fixture, dense1, dense2, sensitive)));
            fixture.lap("3 deduplication canary");
        }

        @AfterAll
        void destroyGuests() {
            fixture.destroyGuests();
        }
    }
}
