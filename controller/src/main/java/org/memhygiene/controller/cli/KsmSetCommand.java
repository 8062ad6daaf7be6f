package org.memhygiene.controller.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.ksm.KsmSysfs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "set",
        description = {
            "Set KSM knobs, all or none: every value is checked before the first write, and if the kernel"
                    + " refuses one, those already written are put back.",
            "run=0 stops ksmd (merged pages stay merged); run=1 merges; run=2 stops ksmd and unmerges every"
                    + " page (needs free memory for all the copies).",
            "merge_across_nodes and max_page_sharing change only while no pages are shared: combine them"
                    + " with run=2, then set run=1."
        },
        mixinStandardHelpOptions = true)
final class KsmSetCommand implements Runnable {
    @ParentCommand
    KsmCommand ksm;

    @Mixin
    JsonOutput output;

    @Parameters(arity = "1..*", paramLabel = "KEY=VALUE", description = "Knobs to set, e.g. run=1 pages_to_scan=1000.")
    List<String> assignments;

    @Option(names = "--dry-run", description = "Check the values and show what would change; write nothing.")
    boolean dryRun;

    @Override
    public void run() {
        KsmSettings settings = KsmCommand.settings(output, assignments);
        KsmSysfs sysfs = ksm.sysfs();
        List<KsmChange> changes = new ArrayList<>();
        if (dryRun) {
            var current = sysfs.currentValues(
                    settings.inWriteOrder().stream().map(Map.Entry::getKey).toList());
            settings.inWriteOrder()
                    .forEach(e -> changes.add(new KsmChange(e.getKey(), current.get(e.getKey()), e.getValue())));
        } else {
            changes.addAll(sysfs.apply(settings));
        }
        PrintWriter out = output.out();
        if (output.json()) {
            output.print(new KsmCommand.SetJson(dryRun, changes));
        } else {
            TextTable table = new TextTable("KNOB", "BEFORE>", dryRun ? "WOULD BE>" : "NOW>");
            changes.forEach(c -> table.row(
                    c.knob().fileName(), Objects.requireNonNullElse(c.before(), CommandOutput.MISSING), c.after()));
            out.print(table);
            if (dryRun) {
                out.println("(dry run: nothing written)");
            }
        }
        out.flush();
    }
}
