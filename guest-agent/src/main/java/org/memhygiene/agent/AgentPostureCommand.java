package org.memhygiene.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.PrintWriter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.memhygiene.agent.posture.PostureProbe;
import org.memhygiene.core.cli.JsonOutput;
import org.memhygiene.core.posture.Finding;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
        name = "posture",
        mixinStandardHelpOptions = true,
        description = "What this guest does to protect memory: findings with evidence and remediation.")
final class AgentPostureCommand implements Callable<Integer> {
    @CommandLine.Mixin
    JsonOutput output;

    @Override
    public Integer call() throws JsonProcessingException {
        List<Finding> findings = PostureProbe.ofThisMachine().probe().stream()
                .sorted(Comparator.comparing(Finding::severity).reversed().thenComparing(Finding::id))
                .toList();
        PrintWriter out = output.out();
        if (output.json()) {
            output.print(findings);
        } else {
            for (Finding f : findings) {
                out.printf(Locale.ROOT, "%-8s %-32s %s%n", f.severity(), f.id(), f.title());
                out.printf(Locale.ROOT, "%-8s %-32s evidence: %s%n", "", "", f.evidence());
                out.printf(Locale.ROOT, "%-8s %-32s fix: %s%n", "", "", f.remediation());
            }
        }
        out.flush();
        return 0;
    }
}
