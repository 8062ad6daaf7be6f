package org.memhygiene.ui.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.memhygiene.core.json.Json;

/**
 * The fleet from a Prometheus server's HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/):
 * every target of the memhygiene scrape job with its figures, from instant queries and the alerts endpoint.
 * Reads the raw metrics, not the recording rules, so it works on a Prometheus without memhygiene's rules.
 */
public final class PrometheusFleet {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final URI base;
    private final String job;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    /**
     * @param base the Prometheus server, e.g. http://prometheus:9090
     * @param job  the scrape job of the memhygiene daemons (docs/FLEET.md's configuration calls it memhygiene)
     */
    public PrometheusFleet(URI base, String job) {
        if (base.getScheme() == null
                || !(base.getScheme().equals("http") || base.getScheme().equals("https"))
                || base.getHost() == null) {
            throw new IllegalArgumentException(
                    "--prometheus " + base + ": expected an http or https URL, e.g. http://127.0.0.1:9090");
        }
        if (!job.matches("[a-zA-Z_][a-zA-Z0-9_.:-]*")) {
            throw new IllegalArgumentException(
                    "--prometheus-job " + job + ": expected a job name as in prometheus.yml");
        }
        this.base = base;
        this.job = job;
    }

    public URI base() {
        return base;
    }

    /** Every host of the job, by instance; a host Prometheus cannot scrape is there, down. */
    public List<FleetHost> hosts() throws IOException, InterruptedException {
        String selector = "{job=\"" + job + "\"}";
        Map<String, Double> up = byInstance("up" + selector);
        Map<String, Double> vms = byInstance("count by (instance) (memhygiene_vm_agent_up" + selector + ")");
        Map<String, Double> reclaimed = byInstance("sum by (instance) (memhygiene_vm_reclaimed_bytes" + selector + ")");
        Map<String, List<String>> methods =
                labelled("count by (instance, method) (memhygiene_vm_guest_memory_method" + selector + ")", "method");
        Map<String, Double> posture = byInstance("memhygiene_posture_score{job=\"" + job + "\",scope=\"host\"}");
        Map<String, List<String>> alerts = firingAlerts();
        List<FleetHost> hosts = new ArrayList<>();
        for (Map.Entry<String, Double> target : new TreeMap<>(up).entrySet()) {
            String instance = target.getKey();
            hosts.add(new FleetHost(
                    instance,
                    target.getValue() == 1,
                    vms.getOrDefault(instance, 0.0).longValue(),
                    reclaimed.containsKey(instance)
                            ? OptionalLong.of(reclaimed.get(instance).longValue())
                            : OptionalLong.empty(),
                    methods.getOrDefault(instance, List.of()).stream().sorted().toList(),
                    posture.containsKey(instance) ? OptionalDouble.of(posture.get(instance)) : OptionalDouble.empty(),
                    alerts.getOrDefault(instance, List.of()).stream().sorted().toList()));
        }
        return hosts;
    }

    /** An instant query's vector, value by its instance label. */
    private Map<String, Double> byInstance(String promql) throws IOException, InterruptedException {
        JsonNode data = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        Map<String, Double> values = new HashMap<>();
        for (JsonNode sample : data.path("result")) {
            values.put(
                    sample.path("metric").path("instance").asText(),
                    Double.parseDouble(sample.path("value").path(1).asText()));
        }
        return values;
    }

    /** An instant query's vector by instance, each sample as "LABEL ×value" (a count by instance and that label). */
    private Map<String, List<String>> labelled(String promql, String label) throws IOException, InterruptedException {
        JsonNode data = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        Map<String, List<String>> values = new HashMap<>();
        for (JsonNode sample : data.path("result")) {
            values.computeIfAbsent(sample.path("metric").path("instance").asText(), k -> new ArrayList<>())
                    .add(sample.path("metric").path(label).asText() + " ×"
                            + (long) Double.parseDouble(
                                    sample.path("value").path(1).asText()));
        }
        return values;
    }

    /** Firing alerts by their instance label (alerts without one are about no single host). */
    private Map<String, List<String>> firingAlerts() throws IOException, InterruptedException {
        Map<String, List<String>> byInstance = new HashMap<>();
        for (JsonNode alert : get("/api/v1/alerts").path("alerts")) {
            JsonNode labels = alert.path("labels");
            if (alert.path("state").asText().equals("firing") && labels.has("instance")) {
                byInstance
                        .computeIfAbsent(labels.path("instance").asText(), k -> new ArrayList<>())
                        .add(labels.path("alertname").asText());
            }
        }
        return byInstance;
    }

    private JsonNode get(String pathAndQuery) throws IOException, InterruptedException {
        URI uri = base.resolve(pathAndQuery);
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(uri + ": HTTP " + response.statusCode() + ": " + abbreviate(response.body()));
        }
        JsonNode body = Json.mapper().readTree(response.body());
        if (!body.path("status").asText().equals("success")) {
            throw new IOException(uri + ": " + body.path("error").asText(abbreviate(response.body())));
        }
        return body.path("data");
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }
}
