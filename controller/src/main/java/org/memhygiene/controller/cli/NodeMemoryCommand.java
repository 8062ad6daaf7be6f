package org.memhygiene.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import org.memhygiene.controller.libvirt.LibvirtHost;
import org.memhygiene.controller.libvirt.NodeMemoryParameters;
import org.memhygiene.controller.libvirt.NodeMemorySettings;
import org.memhygiene.controller.libvirt.NodeMemoryTuning;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.JsonOutput;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code memhygiene node-memory [set NAME=VALUE...]}: KSM as libvirt sees it (virNodeGetMemoryParameters),
 * and tuning it through libvirt instead of sysfs, e.g. on a remote host over qemu+ssh://.
 */
@Command(
        name = "node-memory",
        mixinStandardHelpOptions = true,
        description = "KSM through libvirt's node memory parameters (shm_*): read them, or set them with 'set'.",
        subcommands = NodeMemoryCommand.Set.class)
final class NodeMemoryCommand implements Callable<Integer> {
    @Option(
            names = "--uri",
            paramLabel = "URI",
            scope = CommandLine.ScopeType.INHERIT,
            description = "libvirt connection URI (default: ${DEFAULT-VALUE}).")
    String uri = LibvirtHost.DEFAULT_URI;

    @Mixin
    JsonOutput output;

    @Override
    public Integer call() throws JsonProcessingException {
        try (LibvirtHost host = new LibvirtHost(uri)) {
            print(output, new NodeMemoryTuning(host).read());
        }
        return 0;
    }

    static void print(JsonOutput output, NodeMemoryParameters p) throws JsonProcessingException {
        PrintWriter out = output.out();
        if (output.json()) {
            output.print(p);
        } else {
            TextTable table = new TextTable("PARAMETER", "VALUE>");
            table.row(NodeMemoryParameters.PAGES_TO_SCAN, text(p.pagesToScan()));
            table.row(NodeMemoryParameters.SLEEP_MILLISECS, text(p.sleepMillis()));
            table.row(NodeMemoryParameters.PAGES_SHARED, text(p.pagesShared()));
            table.row(NodeMemoryParameters.PAGES_SHARING, text(p.pagesSharing()));
            table.row(NodeMemoryParameters.PAGES_UNSHARED, text(p.pagesUnshared()));
            table.row(NodeMemoryParameters.PAGES_VOLATILE, text(p.pagesVolatile()));
            table.row(NodeMemoryParameters.FULL_SCANS, text(p.fullScans()));
            table.row(NodeMemoryParameters.MERGE_ACROSS_NODES, text(p.mergeAcrossNodes()));
            out.print(table);
        }
        out.flush();
    }

    private static String text(OptionalLong value) {
        return value.isPresent() ? Long.toString(value.getAsLong()) : CommandOutput.MISSING;
    }

    @Command(
            name = "set",
            mixinStandardHelpOptions = true,
            description = "Set shm_pages_to_scan, shm_sleep_millisecs or shm_merge_across_nodes through libvirt"
                    + " (virNodeSetMemoryParameters); every value is checked before libvirt sees any.")
    static final class Set implements Callable<Integer> {
        @CommandLine.ParentCommand
        NodeMemoryCommand parent;

        @Mixin
        JsonOutput output;

        @Parameters(arity = "1..*", paramLabel = "NAME=VALUE", description = "e.g. shm_pages_to_scan=1000.")
        List<String> assignments;

        @Override
        public Integer call() throws JsonProcessingException {
            Map<String, String> byName = new LinkedHashMap<>();
            for (String assignment : assignments) {
                int equals = assignment.indexOf('=');
                if (equals <= 0) {
                    throw new CommandLine.ParameterException(
                            output.commandLine(),
                            "'" + assignment + "' is not NAME=VALUE, e.g. shm_pages_to_scan=1000");
                }
                byName.put(assignment.substring(0, equals), assignment.substring(equals + 1));
            }
            NodeMemorySettings settings;
            try {
                settings = NodeMemorySettings.parse(byName);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(output.commandLine(), e.getMessage());
            }
            try (LibvirtHost host = new LibvirtHost(parent.uri)) {
                NodeMemoryTuning tuning = new NodeMemoryTuning(host);
                tuning.set(settings);
                print(output, tuning.read());
            }
            return 0;
        }
    }
}
