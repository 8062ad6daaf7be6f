package org.memhygiene.controller.cli;

import java.io.PrintWriter;
import java.util.List;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.ksm.ProcessKsmReader;
import org.memhygiene.core.ksm.ProcessKsmStat;
import org.memhygiene.core.linux.LinuxMemory;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.core.units.Count;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "top",
        description = "Processes by pages KSM saves them (merged + zero pages).",
        mixinStandardHelpOptions = true)
final class KsmTopCommand implements Runnable {
    @ParentCommand
    KsmCommand ksm;

    @Mixin
    JsonOutput output;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "20",
            description = "Rows to show (default: ${DEFAULT-VALUE}).")
    int limit;

    @Override
    public void run() {
        if (limit <= 0) {
            throw new ParameterException(
                    output.commandLine(), "--limit must be a positive number of rows, was " + limit);
        }
        long page = LinuxMemory.pageSizeBytes();
        ProcessKsmReader.Top read = new ProcessKsmReader(ksm.procRoot).top(limit);
        List<ProcessKsmStat> top = read.processes();
        int unreadable = read.unreadableProcesses();
        PrintWriter out = output.out();
        if (output.json()) {
            output.print(new KsmCommand.TopJson(page, top, unreadable));
        } else if (top.isEmpty()) {
            out.println(
                    unreadable == 0
                            ? "No process has pages tracked by KSM (none made memory MADV_MERGEABLE,"
                                    + " or ksmd has not scanned it yet)."
                            : "No process whose figures this user may read has pages tracked by KSM.");
        } else {
            TextTable table = new TextTable(
                    "PID>", "NAME", "MERGING>", "ZERO>", "SAVED>", "RMAP_ITEMS>", "PROFIT>", "MERGE_ANY", "MERGEABLE");
            for (ProcessKsmStat p : top) {
                table.row(
                        p.pid(),
                        p.name(),
                        KsmCommand.number(p.mergingPages()),
                        KsmCommand.number(p.zeroPages()),
                        ByteSize.format(p.savedPages() * page),
                        KsmCommand.number(p.rmapItems()),
                        KsmCommand.bytes(p.processProfitBytes()),
                        KsmCommand.yesNo(p.mergeAny()),
                        KsmCommand.yesNo(p.mergeable()));
            }
            out.print(table);
        }
        if (unreadable > 0 && !output.json()) {
            out.println(Count.of(unreadable, "process", "processes") + " not shown: /proc/PID/ksm_stat is"
                    + " readable by the process's owner and root only; run as root to see every process.");
        }
        out.flush();
    }
}
