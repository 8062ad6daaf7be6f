package org.memhygiene.core.host;

import org.memhygiene.core.ksm.ProcessKsmStat;

/**
 * What KSM does for one domain: the figures of its QEMU process from /proc/PID/ksm_stat
 * (merged pages, zero pages, profit; see {@link ProcessKsmStat}).
 */
public record DomainKsm(String domainName, int pid, ProcessKsmStat stat) {}
