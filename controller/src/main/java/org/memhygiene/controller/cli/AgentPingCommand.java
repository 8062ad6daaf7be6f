package org.memhygiene.controller.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "ping",
        mixinStandardHelpOptions = true,
        description = "Connect to the VM's agent and handshake: is it there, which version, how fast.")
final class AgentPingCommand implements Callable<Integer> {
    @Mixin
    VmCommands.OneVm target;

    @Mixin
    JsonOutput output;

    @Override
    public Integer call() throws Exception {
        try (HostBackend host = target.libvirt.open()) {
            long start = System.nanoTime();
            AgentHello hello;
            try {
                hello = host.ping(target.name);
            } catch (NoSuchVmException e) {
                throw VmCommands.noSuchVm(output, e);
            }
            double millis = (System.nanoTime() - start) / 1e6;
            PrintWriter out = output.out();
            if (output.json()) {
                ObjectNode node = Json.mapper().valueToTree(hello);
                node.put("round_trip_millis", millis);
                output.print(node);
            } else {
                out.printf(
                        Locale.ROOT,
                        "%s: agent %s, protocol %d, page size %s, %s; connect + hello %.1f ms%n",
                        target.name,
                        hello.agentVersion(),
                        hello.protocolVersion(),
                        ByteSize.format(hello.pageSizeBytes()),
                        String.join(" ", hello.capabilities()),
                        millis);
            }
            out.flush();
        }
        return 0;
    }
}
