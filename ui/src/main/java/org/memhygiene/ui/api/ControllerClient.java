package org.memhygiene.ui.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.memhygiene.core.json.Json;

/**
 * The controller's HTTP API (docs/API.md) as asynchronous calls: nothing here blocks the caller, every
 * answer arrives on the client's own threads (the FX thread hands it over with Platform.runLater). An
 * error answer completes the future with an {@link ApiException} carrying the controller's message.
 */
public final class ControllerClient implements AutoCloseable {
    /** A scrub may take minutes (the controller waits up to 10 for the agent). */
    private static final Duration SCRUB_TIMEOUT = Duration.ofMinutes(11);

    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    private final URI base;
    private final Optional<String> token;
    private final ExecutorService executor;
    private final HttpClient http;

    /**
     * @param base  the controller, e.g. http://127.0.0.1:9520 (a path after the host is ignored)
     * @param token the bearer token for state-changing calls
     */
    public ControllerClient(URI base, Optional<String> token) {
        if (base.getScheme() == null
                || !(base.getScheme().equals("http") || base.getScheme().equals("https"))
                || base.getHost() == null) {
            throw new IllegalArgumentException("--connect " + base
                    + ": expected an http:// or https:// URL of a controller," + " e.g. http://127.0.0.1:9520");
        }
        this.base = URI.create(base.getScheme() + "://" + base.getRawAuthority());
        this.token = token;
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "memhygiene-ui-http");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder()
                .executor(executor)
                .connectTimeout(Duration.ofSeconds(3))
                .build();
    }

    public URI base() {
        return base;
    }

    /**
     * Sends on this client's threads. After {@link #close()} the answer is a failed future, never an
     * exception here: a history load the FX thread queued before the dashboard closed would throw there.
     */
    <T> CompletableFuture<HttpResponse<T>> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return http.sendAsync(request, body);
        } catch (RejectedExecutionException e) { // the executor is shut down: close() ran
            return CompletableFuture.failedFuture(
                    new IllegalStateException("the dashboard closed its connection before sending"));
        }
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    public CompletableFuture<JsonNode> get(String path) {
        return call(HttpRequest.newBuilder(uri(path)).timeout(CALL_TIMEOUT).GET(), path);
    }

    public CompletableFuture<HostView> snapshot() {
        return get("/api/v1/snapshot").thenApply(ApiDocuments::host);
    }

    /**
     * GET /api/v1/history?from=ISO&amp;to=ISO[&amp;vm=NAME]: the recorded samples of the host (or of one VM) in
     * [from, to), oldest first (docs/API.md).
     */
    public CompletableFuture<JsonNode> history(Instant from, Instant to, Optional<String> vm) {
        return get("/api/v1/history?from=" + from + "&to=" + to
                + vm.map(name -> "&vm="
                                + URLEncoder.encode(name, StandardCharsets.UTF_8)
                                        .replace("+", "%20"))
                        .orElse(""));
    }

    /** GET /api/v1/history/decisions?from=ISO&amp;to=ISO: the policy's recorded decisions in [from, to), oldest first. */
    public CompletableFuture<JsonNode> decisions(Instant from, Instant to) {
        return get("/api/v1/history/decisions?from=" + from + "&to=" + to);
    }

    /** PUT /api/v1/settings: KSM knobs all or nothing; the answer lists the changes. */
    public CompletableFuture<JsonNode> putSettings(Map<String, ?> knobs) {
        return send("PUT", "/api/v1/settings", Json.mapper().valueToTree(knobs), CALL_TIMEOUT);
    }

    public CompletableFuture<JsonNode> policy() {
        return get("/api/v1/policy");
    }

    /** PUT /api/v1/policy {"mode": ..., "dry_run": ...}. */
    public CompletableFuture<JsonNode> putPolicy(String mode, boolean dryRun) {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("mode", mode);
        body.put("dry_run", dryRun);
        return send("PUT", "/api/v1/policy", body, CALL_TIMEOUT);
    }

    /**
     * POST /api/v1/probes/dedup: starts a deduplication probe of every running VM (docs/POSTURE.md); completes
     * with its state at once ({@code running}), the VMs' posture turns measured when it is done.
     */
    public CompletableFuture<JsonNode> probeDedup() {
        return send("POST", "/api/v1/probes/dedup", Json.mapper().createObjectNode(), CALL_TIMEOUT);
    }

    /** POST /api/v1/vms/{vm}/scrub: completes with the agent's report when the scrub is done. */
    public CompletableFuture<JsonNode> scrub(String vm) {
        return send(
                "POST",
                "/api/v1/vms/" + URLEncoder.encode(vm, StandardCharsets.UTF_8).replace("+", "%20") + "/scrub",
                Json.mapper().createObjectNode(),
                SCRUB_TIMEOUT);
    }

    private CompletableFuture<JsonNode> send(String method, String path, JsonNode body, Duration timeout) {
        String text;
        try {
            text = Json.mapper().writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(text));
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return call(request, method + " " + path);
    }

    private CompletableFuture<JsonNode> call(HttpRequest.Builder request, String what) {
        return send(request.build(), HttpResponse.BodyHandlers.ofString()).handle((response, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause()
                        : failure;
                throw new ApiException(
                        0, "cannot reach the controller at " + base + " (" + what + "): " + describe(cause));
            }
            JsonNode document;
            try {
                document = Json.mapper().readTree(response.body());
            } catch (JsonProcessingException e) {
                throw new ApiException(
                        response.statusCode(),
                        what + ": the controller answered " + response.statusCode()
                                + " with something that is not JSON");
            }
            if (response.statusCode() >= 400) {
                String message = document != null && document.has("error")
                        ? document.get("error").asText()
                        : "HTTP " + response.statusCode();
                throw new ApiException(response.statusCode(), message);
            }
            return document;
        });
    }

    static String describe(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
