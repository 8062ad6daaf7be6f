package org.memhygiene.controller.probe;

import java.util.Arrays;
import org.memhygiene.agent.AgentMain;
import org.memhygiene.core.linux.LinuxMemory;

/**
 * The real agent in a process that stands in for a VM's QEMU: {@code -name guest=NAME} first, as QEMU's
 * command line has it (so QemuProcessLocator takes it for that domain's process), then {@code merge} or
 * {@code plain}, then the agent's own arguments. {@code merge} makes every anonymous mapping of the process
 * mergeable (prctl PR_SET_MEMORY_MERGE, Linux 6.4), as QEMU marks a guest's RAM, canary included; {@code
 * plain} leaves it as a VM with {@code <nosharepages/>} is: nothing of it merges.
 */
public final class ProbeAgent {
    private ProbeAgent() {}

    public static void main(String[] args) {
        if (args.length < 3 || !args[0].equals("-name") || !args[1].startsWith("guest=")) {
            throw new IllegalArgumentException("usage: -name guest=NAME merge|plain AGENT-ARGS...");
        }
        if (args[2].equals("merge")) {
            LinuxMemory.setProcessMemoryMerge(true);
        }
        AgentMain.main(Arrays.copyOfRange(args, 3, args.length));
    }
}
