/**
 * The page-level model of guests, their hygiene and the kernel's KSM algorithm, behind the
 * controller's HostBackend seam (see ../shared/DESIGN.md). Its content arrives with the simulator issue.
 */
package org.memhygiene.simulator;
