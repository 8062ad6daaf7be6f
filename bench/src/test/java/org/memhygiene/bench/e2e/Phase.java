package org.memhygiene.bench.e2e;

/**
 * One measured phase of the real-VM suite. Its constructor takes what it needs from the shared
 * {@link RealVmFixture} (meters, guests already booted and filled, the results of phases it builds on);
 * {@link #run} measures and returns the figures and the checks, leaving every KSM knob it changed as
 * the next phase expects. Asserting is the runner's job ({@link RealVmIT}): a failed check fails the
 * phase's test and is still reported.
 */
interface Phase<R extends PhaseResult> {
    R run() throws Exception;
}
