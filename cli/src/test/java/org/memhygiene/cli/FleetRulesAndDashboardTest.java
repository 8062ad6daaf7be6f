package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.controller.api.LoopbackApi;
import org.memhygiene.controller.daemon.Daemon;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.simulator.SimulatedHost;

/**
 * The Prometheus rules and the Grafana dashboard the host package ships (docs/FLEET.md): every PromQL
 * expression in them names only metrics and labels that a real /metrics scrape of the daemon has (a daemon on
 * the simulator's built-in host, whose guests have agents that scrub), the rules' own recorded series, and
 * what Prometheus adds (up, ALERTS, instance, job); and promtool checks the rules and runs their unit tests
 * (packaging/src/test/prometheus), where Debian's prometheus package is installed (.ci/run installs it).
 */
class FleetRulesAndDashboardTest {
    private static final Path SHARE = Path.of("..", "packaging/src/deb/memhygiene/root/usr/share/memhygiene");
    static final Path RULES = SHARE.resolve("prometheus/memhygiene-rules.yml");
    static final Path DASHBOARD = SHARE.resolve("grafana/memhygiene-dashboard.json");
    private static final Path RULE_TESTS = Path.of("..", "packaging/src/test/prometheus/memhygiene-rules.test.yml");
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    /** A bound in the daemon's own progress while waiting for every metric to have a sample. */
    private static final long MAX_SAMPLES = 600;

    /** Series Prometheus itself makes, and the labels it adds to every scraped one. */
    private static final Set<String> PROMETHEUS_SERIES = Set.of("up", "ALERTS");

    private static final Set<String> PROMETHEUS_LABELS = Set.of("instance", "job", "alertname", "alertstate");

    private static final Pattern METRIC =
            Pattern.compile("\\b((?:[a-z]+:)?memhygiene_[a-z0-9_:]+|up|ALERTS)\\b(\\{[^}]*})?");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");
    private static final Pattern GROUPING =
            Pattern.compile("\\b(?:by|on|ignoring|without|group_left|group_right)\\s*\\(([^)]*)\\)");

    @Test
    void everyExpressionNamesOnlyWhatARealScrapeHas(@TempDir Path dir) throws Exception {
        Map<String, Set<String>> scraped = scrape(dir);
        JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(RULES.toFile());
        Map<String, String> expressions = new HashMap<>();
        Set<String> recorded = new HashSet<>();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String name = rule.has("record")
                        ? rule.path("record").asText()
                        : rule.path("alert").asText();
                expressions.put("rule " + name, rule.path("expr").asText());
                if (rule.has("record")) {
                    recorded.add(name);
                }
            }
        }
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                expressions.put(
                        "panel '" + panel.path("title").asText() + "' "
                                + target.path("refId").asText(),
                        target.path("expr").asText());
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.path("query").has("query")) {
                expressions.put(
                        "variable " + variable.path("name").asText(),
                        variable.path("query").path("query").asText());
            }
        }
        assertTrue(expressions.size() >= 25, "rules and panels read: " + expressions.keySet());

        Set<String> allLabels = new HashSet<>(PROMETHEUS_LABELS);
        scraped.values().forEach(allLabels::addAll);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : expressions.entrySet()) {
            String expr = e.getValue();
            Matcher m = METRIC.matcher(expr);
            int metrics = 0;
            while (m.find()) {
                metrics++;
                String name = m.group(1);
                boolean known =
                        scraped.containsKey(name) || recorded.contains(name) || PROMETHEUS_SERIES.contains(name);
                if (!known) {
                    problems.add(e.getKey() + ": metric " + name + " is not in the daemon's /metrics nor recorded");
                    continue;
                }
                if (m.group(2) != null && scraped.containsKey(name)) {
                    Matcher l = MATCHER.matcher(m.group(2));
                    while (l.find()) {
                        String label = l.group(1);
                        if (!scraped.get(name).contains(label) && !PROMETHEUS_LABELS.contains(label)) {
                            problems.add(e.getKey() + ": " + name + " has no label " + label + " (it has "
                                    + scraped.get(name) + ")");
                        }
                    }
                }
            }
            if (metrics == 0) {
                problems.add(e.getKey() + ": names no metric: " + expr);
            }
            Matcher g = GROUPING.matcher(expr);
            while (g.find()) {
                for (String label : g.group(1).split(",")) {
                    if (!label.isBlank() && !allLabels.contains(label.strip())) {
                        problems.add(e.getKey() + ": groups by " + label.strip() + ", a label no metric has");
                    }
                }
            }
        }
        assertEquals(List.of(), problems, "expressions against a real scrape");
    }

    @Test
    void promtoolChecksTheRulesAndTheirUnitTestsPass() throws Exception {
        if (!Files.isExecutable(PROMTOOL)) {
            System.out.println("FleetRulesAndDashboardTest: promtool not run: " + PROMTOOL
                    + " is not installed (Debian: prometheus; .ci/run installs it)");
            Assumptions.abort("no promtool");
        }
        assertEquals("", promtool("check", "rules", RULES.toString()));
        assertEquals("", promtool("test", "rules", RULE_TESTS.toString()));
    }

    /** "" when promtool exits 0, else its output. */
    private static String promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(PROMTOOL.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        return p.waitFor() == 0 ? "" : String.join(" ", command) + ":\n" + output;
    }

    /**
     * Each metric of a daemon's /metrics with the labels its samples carry, once every VM's guest memory, agent
     * scrub counters and the policy's figures have samples.
     */
    private static Map<String, Set<String>> scrape(Path dir) throws Exception {
        Map<String, Set<String>> metrics = new HashMap<>();
        try (Daemon daemon = Daemon.start(
                SimulatedHost.builtin(Clock.systemUTC(), 120),
                SimulatedHostDaemonTest.settings(dir, Duration.ofMillis(100)),
                true,
                Clock.systemUTC())) {
            // The simulated host answers a deduplication probe from its model: its metrics have samples then.
            daemon.probes().start(DedupProbeRequest.of(List.of(), 16));
            String text = "";
            long samples = 0;
            while (samples < MAX_SAMPLES
                    && !(text.contains("\nmemhygiene_vm_memory_bytes{")
                            && text.contains("\nmemhygiene_vm_dedup_observed{")
                            && text.contains("\nmemhygiene_vm_agent_zeroed_bytes_total{")
                            && text.contains("\nmemhygiene_vm_posture_level{")
                            && text.contains("\nmemhygiene_policy_last_decision_timestamp_seconds "))) {
                Thread.sleep(100);
                text = LoopbackApi.getOk(daemon.apiPort(), "/metrics");
                samples = (long) Double.parseDouble(sample(text, "memhygiene_samples_total"));
            }
            for (String line : text.split("\n")) {
                if (line.startsWith("# TYPE ")) {
                    metrics.computeIfAbsent(line.split(" ")[2], k -> new HashSet<>());
                } else if (!line.startsWith("#") && !line.isBlank()) {
                    int brace = line.indexOf('{');
                    int space = line.indexOf(' ');
                    String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
                    Set<String> labels = metrics.computeIfAbsent(name, k -> new HashSet<>());
                    if (brace >= 0 && brace < space) {
                        Matcher l = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"")
                                .matcher(line.substring(brace, line.lastIndexOf('}')));
                        while (l.find()) {
                            labels.add(l.group(1));
                        }
                    }
                }
            }
            assertTrue(
                    metrics.containsKey("memhygiene_vm_agent_zeroed_bytes_total")
                            && metrics.containsKey("memhygiene_vm_posture_level"),
                    "within " + MAX_SAMPLES + " samples: " + metrics.keySet());
        }
        return metrics;
    }

    private static String sample(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return line.substring(name.length() + 1).strip();
            }
        }
        return "0";
    }
}
