package org.memhygiene.controller.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import org.memhygiene.core.cli.CommandOutput;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.ksm.KsmSample;
import org.memhygiene.core.ksm.KsmSavings;
import org.memhygiene.core.ksm.KsmStats;
import org.memhygiene.core.ksm.KsmSysfs;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "status",
        description = "Every KSM knob and counter, and what merging saves.",
        mixinStandardHelpOptions = true)
final class KsmStatusCommand implements Runnable {
    @ParentCommand
    KsmCommand ksm;

    @Mixin
    JsonOutput output;

    @Override
    public void run() {
        KsmSysfs sysfs = ksm.sysfs();
        KsmSample sample = sysfs.sample();
        PrintWriter out = output.out();
        if (output.json()) {
            output.print(new KsmCommand.StatusJson(
                    sample.takenAt(),
                    sysfs.root().toString(),
                    sample.pageSizeBytes(),
                    sample.stats(),
                    sample.savings()));
        } else {
            out.print(human(sysfs.root(), sample));
        }
        out.flush();
    }

    static String human(Path root, KsmSample sample) {
        KsmStats s = sample.stats();
        long page = sample.pageSizeBytes();
        StringBuilder text = new StringBuilder();
        text.append("KSM at ")
                .append(root)
                .append(", page size ")
                .append(ByteSize.format(page))
                .append(": ")
                .append(KsmCommand.runState(s.run()))
                .append("\n\n");
        TextTable knobs = new TextTable("KNOB", "VALUE>");
        knobs.row("run", KsmCommand.number(s.run()));
        knobs.row("pages_to_scan", KsmCommand.number(s.pagesToScan()));
        knobs.row("sleep_millisecs", KsmCommand.number(s.sleepMillisecs()));
        knobs.row("use_zero_pages", KsmCommand.number(s.useZeroPages()));
        knobs.row("merge_across_nodes", KsmCommand.number(s.mergeAcrossNodes()));
        knobs.row("max_page_sharing", KsmCommand.number(s.maxPageSharing()));
        knobs.row("smart_scan", KsmCommand.number(s.smartScan()));
        knobs.row("stable_node_chains_prune_millisecs", KsmCommand.number(s.stableNodeChainsPruneMillisecs()));
        knobs.row("advisor_mode", s.advisorMode().orElse(CommandOutput.MISSING));
        knobs.row("advisor_max_cpu (%)", KsmCommand.number(s.advisorMaxCpuPercent()));
        knobs.row("advisor_min_pages_to_scan", KsmCommand.number(s.advisorMinPagesToScan()));
        knobs.row("advisor_max_pages_to_scan", KsmCommand.number(s.advisorMaxPagesToScan()));
        knobs.row("advisor_target_scan_time (s)", KsmCommand.number(s.advisorTargetScanTimeSeconds()));
        text.append(knobs).append('\n');

        TextTable counters = new TextTable("COUNTER", "PAGES>", "MEMORY>");
        counters.row("pages_shared", KsmCommand.number(s.pagesShared()), KsmCommand.memory(s.pagesShared(), page));
        counters.row("pages_sharing", KsmCommand.number(s.pagesSharing()), KsmCommand.memory(s.pagesSharing(), page));
        counters.row(
                "pages_unshared", KsmCommand.number(s.pagesUnshared()), KsmCommand.memory(s.pagesUnshared(), page));
        counters.row(
                "pages_volatile", KsmCommand.number(s.pagesVolatile()), KsmCommand.memory(s.pagesVolatile(), page));
        counters.row("ksm_zero_pages", KsmCommand.number(s.ksmZeroPages()), KsmCommand.memory(s.ksmZeroPages(), page));
        counters.row("pages_scanned", KsmCommand.number(s.pagesScanned()), "");
        counters.row("pages_skipped", KsmCommand.number(s.pagesSkipped()), "");
        counters.row("full_scans", KsmCommand.number(s.fullScans()), "");
        counters.row("stable_node_chains", KsmCommand.number(s.stableNodeChains()), "");
        counters.row("stable_node_dups", KsmCommand.number(s.stableNodeDups()), "");
        text.append(counters).append('\n');

        KsmSavings v = sample.savings();
        TextTable savings = new TextTable("SAVINGS", "VALUE>");
        savings.row("saved by sharing (pages_sharing)", KsmCommand.bytes(v.savedBySharingBytes()));
        savings.row("saved by zero pages (ksm_zero_pages)", KsmCommand.bytes(v.savedByZeroPagesBytes()));
        savings.row("saved in total", KsmCommand.bytes(v.savedTotalBytes()));
        savings.row(
                "general_profit" + (v.generalProfitEstimated() ? " (estimated)" : ""),
                KsmCommand.bytes(v.generalProfitBytes()));
        savings.row("sharing ratio (sharing/shared)", KsmCommand.ratio(v.sharingRatio()));
        savings.row("unshared ratio (unshared/sharing)", KsmCommand.ratio(v.unsharedRatio()));
        text.append(savings);

        if (!s.unknownFiles().isEmpty()) {
            text.append('\n');
            s.unknownFiles().entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .forEach(e -> text.append("other file ")
                            .append(e.getKey())
                            .append(": ")
                            .append(e.getValue())
                            .append('\n'));
        }
        if (!s.unreadableFiles().isEmpty()) {
            text.append('\n');
            s.unreadableFiles().entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .forEach(e -> text.append("warning: ")
                            .append(root.resolve(e.getKey()))
                            .append(": ")
                            .append(e.getValue())
                            .append('\n'));
        }
        return text.toString();
    }
}
