/**
 * The JavaFX dashboard: memory reclaimed against security posture, live from a controller or on the
 * built-in simulator. Its content arrives with the dashboard issue.
 */
package org.memhygiene.ui;
