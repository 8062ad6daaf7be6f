/**
 * The page-level model of guests, their hygiene and the kernel's KSM algorithm. {@link
 * org.memhygiene.simulator.SimulatedHost} puts it behind the controller's HostBackend seam
 * (docs/ARCHITECTURE.md); scenarios, the sweep and the fidelity harness against real KSM live in the
 * sub-packages (docs/SIMULATOR.md).
 */
package org.memhygiene.simulator;
