/**
 * The JavaFX dashboard: memory reclaimed against security posture, live from a controller's API or on
 * the built-in simulator. {@link org.memhygiene.ui.DashboardMain} starts it; the views, charts and the
 * frontier live in the sub-packages by feature (docs/DASHBOARD.md).
 */
package org.memhygiene.ui;
