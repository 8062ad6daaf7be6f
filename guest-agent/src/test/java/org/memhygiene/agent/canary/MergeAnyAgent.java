package org.memhygiene.agent.canary;

import org.memhygiene.agent.AgentMain;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * The real agent in a process whose memory KSM may merge, for RealKsmCanaryTest: on a bare host the agent's
 * canary is an ordinary private mapping, which ksmd scans only if it is marked. Inside a VM nobody marks
 * it: QEMU marks the whole guest RAM MADV_MERGEABLE, canary pages included. prctl(PR_SET_MEMORY_MERGE)
 * (Linux 6.4, needs CAP_SYS_RESOURCE) is the bare-host equivalent: every anonymous mapping of this
 * process, present and future, becomes mergeable, while the agent's code runs unchanged.
 */
public final class MergeAnyAgent {
    private MergeAnyAgent() {}

    public static void main(String[] args) {
        LinuxMemory.setProcessMemoryMerge(true);
        AgentMain.main(args);
    }
}
