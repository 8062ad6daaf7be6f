package org.memhygiene.controller.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.eclipse.jetty.servlet.ServletHolder;
import org.memhygiene.controller.daemon.PolicyStep;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.host.SnapshotJson;
import org.memhygiene.controller.policy.PolicyMode;
import org.memhygiene.controller.posture.PostureJson;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.probe.ProbeRunner;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.canary.CanaryBounds;
import org.memhygiene.core.host.HostBackendException;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.json.JsonInput;
import org.memhygiene.core.ksm.KsmChange;
import org.memhygiene.core.ksm.KsmSettings;
import org.memhygiene.core.probe.DedupProbeRequest;
import org.memhygiene.secret.SecretMemory;

/**
 * The controller's HTTP API (docs/API.md): JSON under /api/v1, a Server-Sent Events stream of snapshots,
 * Prometheus metrics at /metrics. Listens on 127.0.0.1 unless told otherwise; anywhere else it refuses
 * to start without a bearer token, and every state-changing call (PUT, POST) needs that token whenever
 * one is configured. Token or not, a state-changing call must name this API in its Host (and Origin, if
 * it sends one) and send JSON, so that a web page cannot make a browser change KSM or scrub a guest
 * ({@link AllowedHosts}); its body is read at most 64 KiB far whatever its framing. Jetty's own error
 * answers are JSON too ({@link JsonErrorHandler}).
 */
public final class ApiServer implements AutoCloseable {
    /** Longest request body accepted: settings and scrub requests are a few hundred bytes. */
    static final long MAX_BODY_BYTES = 64 * 1024;

    private static final Duration SCRUB_TIMEOUT = Duration.ofMinutes(10);
    /** application/json, with at most a UTF-8 charset (RFC 8259 section 8.1: JSON between systems is UTF-8). */
    private static final Pattern JSON_TYPE =
            Pattern.compile("application/json\\s*(;\\s*charset=\"?utf-8\"?\\s*)?", Pattern.CASE_INSENSITIVE);

    private static final ObjectWriter LINE = Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT);
    /** Marks a response our own error handler wrote, so the 404 page does not replace it. */
    private static final String ANSWERED = "memhygiene.answered";
    /** The request body, read (bounded) before the handler runs. */
    private static final String BODY = "memhygiene.body";

    private final SnapshotLoop loop;
    private final PostureScorer posture;
    private final PolicyStep policy;
    private final ProbeRunner probes;
    private final Optional<SecretMemory> token;
    private final Supplier<String> metrics;
    private final Map<String, Function<Map<String, String>, Object>> extraViews;
    private final AllowedHosts hosts;
    private final EventStream stream;
    private final Javalin app;

    /**
     * @param posture    scores the snapshots served (GET /api/v1/posture, each VM document)
     * @param policy     the loop's policy step, for GET and PUT /api/v1/policy
     * @param probes     the daemon's deduplication probes, for GET and POST /api/v1/probes/dedup
     * @param bind       the address to listen on
     * @param port       the port; 0 picks a free one ({@link #port()})
     * @param token      the bearer token for state-changing calls, in secret memory that the caller closes after
     *                   this server; required when {@code bind} is not loopback
     * @param metrics    the Prometheus text exposition for GET /metrics
     * @param extraViews more read-only JSON documents by path under /api/v1 (history, ...), each computed
     *                   per request from its query parameters; an IllegalArgumentException is a 400
     */
    public ApiServer(
            SnapshotLoop loop,
            PostureScorer posture,
            PolicyStep policy,
            ProbeRunner probes,
            String bind,
            int port,
            Optional<SecretMemory> token,
            Supplier<String> metrics,
            Map<String, Function<Map<String, String>, Object>> extraViews) {
        if (!isLoopback(bind) && token.isEmpty()) {
            throw new IllegalArgumentException("the API would listen on " + bind + " without a token: anything that"
                    + " reaches it could change KSM and scrub guests; set api.token_file, or bind to 127.0.0.1");
        }
        token.ifPresent(t -> {
            if (t.sizeBytes() < 16) {
                throw new IllegalArgumentException("the API token must be at least 16 bytes, has " + t.sizeBytes());
            }
        });
        this.loop = loop;
        this.posture = posture;
        this.policy = policy;
        this.probes = probes;
        this.token = token;
        this.metrics = metrics;
        this.extraViews = Map.copyOf(extraViews);
        this.hosts = new AllowedHosts(bind);
        this.stream = new EventStream(
                snapshot -> {
                    try {
                        return LINE.writeValueAsString(SnapshotJson.vms(snapshot, posture.score(snapshot)));
                    } catch (JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                },
                loop::latest);
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.http.maxRequestSize = MAX_BODY_BYTES;
            config.jetty.defaultHost = bind;
            config.jetty.defaultPort = port;
            config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            config.jetty.modifyServletContextHandler(context -> {
                context.setErrorHandler(new JsonErrorHandler());
                // An exact servlet mapping wins over Javalin's "/*": the stream writes without blocking (EventStream).
                context.addServlet(new ServletHolder(stream), "/api/v1/stream");
            });
        });
        routes();
    }

    public ApiServer start() {
        app.start();
        loop.subscribe(stream);
        return this;
    }

    public int port() {
        return app.port();
    }

    private void routes() {
        app.before(ctx -> {
            if (changesState(ctx)) {
                checkStateChange(ctx);
                ctx.attribute(BODY, boundedBody(ctx));
            }
        });
        app.exception(ApiError.class, (e, ctx) -> {
            ctx.attribute(ANSWERED, true);
            if (e.status == HttpStatus.CONTENT_TOO_LARGE) {
                ctx.header("Connection", "close"); // Jetty then drops the rest of the body instead of reading it
            }
            error(ctx, e.status, e.getMessage());
        });
        app.exception(HostBackendException.class, (e, ctx) -> {
            ctx.attribute(ANSWERED, true);
            error(ctx, status(e), e.getMessage());
        });
        app.exception(
                Exception.class,
                (e, ctx) -> error(ctx, HttpStatus.INTERNAL_SERVER_ERROR, String.valueOf(e.getMessage())));
        app.error(HttpStatus.NOT_FOUND, ctx -> {
            if (ctx.attribute(ANSWERED) == null) {
                error(
                        ctx,
                        HttpStatus.NOT_FOUND,
                        "no such resource: " + ctx.method() + " " + ctx.path() + " (docs/API.md)");
            }
        });

        app.get("/api/v1/status", ctx -> json(ctx, loop.status()));
        PerSampleDocument snapshotDocument = new PerSampleDocument(Json.mapper()::writeValueAsString);
        PerSampleDocument vmsDocument = new PerSampleDocument(
                snapshot -> Json.mapper().writeValueAsString(SnapshotJson.vms(snapshot, posture.score(snapshot))));
        app.get("/api/v1/snapshot", ctx -> jsonText(ctx, snapshotDocument.of(latest())));
        app.get("/api/v1/vms", ctx -> jsonText(ctx, vmsDocument.of(latest())));
        app.get("/api/v1/vms/{name}", ctx -> {
            HostSnapshot snapshot = latest();
            VmSnapshot vm = vm(snapshot, ctx.pathParam("name"));
            json(
                    ctx,
                    SnapshotJson.vm(
                            vm,
                            snapshot.pageSizeBytes(),
                            posture.score(snapshot).vm(vm.domain().uuid()).orElseThrow()));
        });
        app.get("/api/v1/posture", ctx -> {
            HostSnapshot snapshot = latest();
            json(ctx, PostureJson.document(posture.score(snapshot), snapshot.sampledAt()));
        });
        app.get("/api/v1/policy", ctx -> json(ctx, policyDocument(policy.state())));
        app.put("/api/v1/policy", this::putPolicy);
        app.get(
                "/api/v1/settings",
                ctx -> json(
                        ctx,
                        latest().ksm()
                                .orElseThrow(
                                        () -> new ApiError(
                                                HttpStatus.NOT_FOUND,
                                                "this host's KSM is not visible here (no /sys/kernel/mm/ksm, or a remote libvirt host)"))
                                .stats()));
        app.put("/api/v1/settings", this::putSettings);
        app.post("/api/v1/vms/{name}/scrub", this::scrub);
        app.get("/api/v1/probes/dedup", ctx -> json(ctx, probes.state()));
        app.post("/api/v1/probes/dedup", this::startProbe);
        extraViews.forEach((path, view) -> app.get("/api/v1/" + path, ctx -> {
            Map<String, String> query = new HashMap<>();
            ctx.queryParamMap().forEach((key, values) -> query.put(key, values.get(0)));
            Object document;
            try {
                document = view.apply(query);
            } catch (IllegalArgumentException | DateTimeParseException e) {
                throw new ApiError(HttpStatus.BAD_REQUEST, e.getMessage());
            }
            json(ctx, document);
        }));
        app.get(
                "/metrics",
                ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                        .result(metrics.get()));
    }

    /** PUT /api/v1/settings {"run": 1, "pages_to_scan": 1000}: all or nothing, as `ksm set`. */
    private void putSettings(Context ctx) throws JsonProcessingException {
        JsonNode body = body(ctx);
        List<String> assignments = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!field.getValue().isValueNode() || field.getValue().isNull()) {
                throw new ApiError(
                        HttpStatus.BAD_REQUEST,
                        field.getKey() + ": expected a number or a string, got " + field.getValue());
            }
            assignments.add(field.getKey() + "=" + field.getValue().asText());
        }
        if (assignments.isEmpty()) {
            throw new ApiError(HttpStatus.BAD_REQUEST, "expected a JSON object of KSM knobs, e.g. {\"run\": 1}");
        }
        KsmSettings settings;
        try {
            settings = KsmSettings.parse(assignments);
        } catch (IllegalArgumentException e) {
            throw new ApiError(HttpStatus.BAD_REQUEST, e.getMessage());
        }
        List<KsmChange> changes = loop.backend().applyKsm(settings);
        json(ctx, Map.of("changes", changes));
    }

    /** PUT /api/v1/policy {"mode": "adaptive", "dry_run": true}: either or both; the rest stays. */
    private void putPolicy(Context ctx) throws JsonProcessingException {
        JsonNode body = body(ctx);
        PolicyStep.State now = policy.state();
        PolicyMode mode = now.mode();
        boolean dryRun = now.dryRun();
        List<String> modes =
                Arrays.stream(PolicyMode.values()).map(PolicyMode::label).toList();
        if (body.isEmpty()) {
            throw new ApiError(
                    HttpStatus.BAD_REQUEST, "expected {\"mode\": one of " + modes + ", \"dry_run\": true or false}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            JsonNode value = field.getValue();
            switch (field.getKey()) {
                case "mode" -> {
                    String text = value.isTextual() ? value.asText() : "";
                    mode = Arrays.stream(PolicyMode.values())
                            .filter(m -> m.label().equals(text))
                            .findFirst()
                            .orElseThrow(() -> new ApiError(
                                    HttpStatus.BAD_REQUEST,
                                    "mode: expected one of " + modes + ", got " + abbreviate(value.toString())));
                }
                case "dry_run" -> {
                    if (!value.isBoolean()) {
                        throw new ApiError(
                                HttpStatus.BAD_REQUEST,
                                "dry_run: expected true or false, got " + abbreviate(value.toString()));
                    }
                    dryRun = value.asBoolean();
                }
                default ->
                    throw new ApiError(
                            HttpStatus.BAD_REQUEST,
                            "unknown field \"" + abbreviate(field.getKey()) + "\"; the policy takes mode and dry_run");
            }
        }
        json(ctx, policyDocument(policy.switchTo(mode, dryRun, Instant.now())));
    }

    /** GET and PUT /api/v1/policy (docs/API.md): the policy now and its last decision. */
    record PolicyDocument(
            String mode,
            boolean dryRun,
            long intervalMillis,
            Optional<Instant> changedAt,
            Optional<PolicyStep.Record> lastDecision) {}

    private PolicyDocument policyDocument(PolicyStep.State state) {
        List<PolicyStep.Record> records = policy.records();
        return new PolicyDocument(
                state.mode().label(),
                state.dryRun(),
                state.interval().toMillis(),
                state.changedAt(),
                records.isEmpty() ? Optional.empty() : Optional.of(records.get(records.size() - 1)));
    }

    /** The backend's contract errors, one HTTP status each, the same on every backend (docs/API.md, "Errors"). */
    static HttpStatus status(HostBackendException e) {
        return switch (e.kind()) {
            case REFUSED, NOT_AVAILABLE -> HttpStatus.CONFLICT;
            case NO_SUCH_VM -> HttpStatus.NOT_FOUND;
            case UNREACHABLE -> HttpStatus.BAD_GATEWAY;
        };
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }

    /** POST /api/v1/vms/{name}/scrub {"max_bytes": N}: waits for the agent's report. */
    private void scrub(Context ctx) throws JsonProcessingException {
        HostSnapshot snapshot = latest();
        VmSnapshot vm = vm(snapshot, ctx.pathParam("name"));
        JsonNode body = hasBody(ctx) ? body(ctx) : Json.mapper().createObjectNode();
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("max_bytes")) {
                throw new ApiError(HttpStatus.BAD_REQUEST, "unknown field \"" + name + "\"; a scrub takes max_bytes");
            }
        }
        long maxBytes = Long.MAX_VALUE;
        if (body.has("max_bytes")) {
            JsonNode max = body.get("max_bytes");
            if (!max.isIntegralNumber() || !max.canConvertToLong() || max.asLong() <= 0) {
                throw new ApiError(HttpStatus.BAD_REQUEST, "max_bytes must be a positive integer, was " + max);
            }
            maxBytes = max.asLong();
        }
        // The backend's errors answer with their own status (status(HostBackendException)).
        ScrubReport report = policy.scrub(vm.domain().uuid(), vm.domain().name(), maxBytes, SCRUB_TIMEOUT);
        json(ctx, report);
    }

    /**
     * POST /api/v1/probes/dedup {"vms": [...], "pages": N, "full_scans": N, "deadline_seconds": N}: starts a
     * deduplication probe (202, its state); GET the same path for its report. One at a time (409).
     */
    private void startProbe(Context ctx) throws JsonProcessingException {
        JsonNode body = hasBody(ctx) ? body(ctx) : Json.mapper().createObjectNode();
        List<String> known = List.of("vms", "pages", "full_scans", "deadline_seconds");
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new ApiError(
                        HttpStatus.BAD_REQUEST, "unknown field \"" + abbreviate(name) + "\"; a probe takes " + known);
            }
        }
        List<String> vms = new ArrayList<>();
        JsonNode given = body.path("vms");
        if (!given.isMissingNode() && !given.isNull()) {
            if (!given.isArray() || given.size() > 1024) {
                throw new ApiError(HttpStatus.BAD_REQUEST, "vms: expected a list of VM names or UUIDs");
            }
            HostSnapshot snapshot = latest();
            for (JsonNode vm : given) {
                if (!vm.isTextual()) {
                    throw new ApiError(HttpStatus.BAD_REQUEST, "vms: expected names or UUIDs, got " + vm);
                }
                vms.add(vm(snapshot, vm.asText()).domain().name());
            }
        }
        DedupProbeRequest request;
        try {
            request = new DedupProbeRequest(
                    vms,
                    wholeField(body, "pages", CanaryBounds.DEFAULT_PAGES),
                    wholeField(body, "full_scans", DedupProbeRequest.DEFAULT_FULL_SCANS),
                    Duration.ofSeconds(wholeField(
                            body, "deadline_seconds", (int) DedupProbeRequest.DEFAULT_DEADLINE.toSeconds())));
        } catch (IllegalArgumentException e) {
            throw new ApiError(HttpStatus.BAD_REQUEST, e.getMessage());
        }
        try {
            ctx.status(HttpStatus.ACCEPTED);
            json(ctx, probes.start(request));
        } catch (IllegalStateException e) {
            throw new ApiError(HttpStatus.CONFLICT, e.getMessage());
        }
    }

    private static int wholeField(JsonNode body, String name, int otherwise) {
        JsonNode value = body.path(name);
        if (value.isMissingNode() || value.isNull()) {
            return otherwise;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new ApiError(HttpStatus.BAD_REQUEST, name + ": expected a whole number, got " + value);
        }
        return value.asInt();
    }

    private static boolean changesState(Context ctx) {
        String method = ctx.method().name();
        return !method.equals("GET") && !method.equals("HEAD") && !method.equals("OPTIONS");
    }

    /**
     * Who may change state (docs/API.md "Security"): a Host that names this API, no foreign Origin, the
     * token when one is configured, and a JSON body; in that order, so a cross-site request learns nothing
     * about the token.
     */
    private void checkStateChange(Context ctx) {
        String host = ctx.header("Host");
        if (!hosts.allowsHostHeader(host)) {
            throw new ApiError(
                    HttpStatus.FORBIDDEN,
                    "Host " + abbreviate(String.valueOf(host)) + " is not this API's:"
                            + " a state-changing call must be addressed to a loopback name or the address the API is bound to");
        }
        String origin = ctx.header("Origin");
        if (origin != null && !hosts.allowsOrigin(origin)) {
            throw new ApiError(
                    HttpStatus.FORBIDDEN, "cross-origin request from Origin " + abbreviate(origin) + " refused");
        }
        if (token.isPresent() && !authorized(ctx.header("Authorization"))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiError(HttpStatus.UNAUTHORIZED, "this call changes state: send Authorization: Bearer <token>");
        }
        String type = ctx.header("Content-Type");
        if (type == null || !JSON_TYPE.matcher(type.strip()).matches()) {
            throw new ApiError(
                    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                    "a state-changing call sends JSON: Content-Type:" + " application/json, was "
                            + (type == null ? "none" : abbreviate(type)));
        }
    }

    /**
     * The body, never more than {@link #MAX_BODY_BYTES} read whatever its framing: Content-Length is
     * checked first, and a chunked body is read only that far (Javalin's own limit trusts Content-Length).
     */
    private static byte[] boundedBody(Context ctx) throws IOException {
        String tooLarge = "the body is larger than " + MAX_BODY_BYTES + " bytes";
        if (ctx.req().getContentLengthLong() > MAX_BODY_BYTES) {
            throw new ApiError(HttpStatus.CONTENT_TOO_LARGE, tooLarge);
        }
        byte[] body = ctx.req().getInputStream().readNBytes((int) MAX_BODY_BYTES + 1);
        if (body.length > MAX_BODY_BYTES) {
            throw new ApiError(HttpStatus.CONTENT_TOO_LARGE, tooLarge);
        }
        return body;
    }

    private HostSnapshot latest() {
        return loop.latest()
                .orElseThrow(() -> new ApiError(
                        HttpStatus.SERVICE_UNAVAILABLE, "no snapshot yet: the first sample" + " is still being taken"));
    }

    private static VmSnapshot vm(HostSnapshot snapshot, String name) {
        return snapshot.vms().stream()
                .filter(v -> v.domain().name().equals(name) || v.domain().uuid().equalsIgnoreCase(name))
                .findFirst()
                .orElseThrow(() -> new ApiError(HttpStatus.NOT_FOUND, "no VM named '" + name + "'"));
    }

    /** The body as one JSON object, read strictly (core JsonInput: no key twice, nothing after it, UTF-8). */
    private static JsonNode body(Context ctx) {
        JsonNode body;
        try {
            body = Json.readTree(ctx.attribute(BODY), JsonInput.JSON);
        } catch (JsonInput.MalformedInputException e) {
            throw new ApiError(HttpStatus.BAD_REQUEST, "the body is not JSON: " + e.getMessage());
        }
        if (!body.isObject()) {
            throw new ApiError(HttpStatus.BAD_REQUEST, "expected a JSON object");
        }
        return body;
    }

    private static boolean hasBody(Context ctx) {
        byte[] body = ctx.attribute(BODY);
        return body != null && !new String(body, StandardCharsets.UTF_8).isBlank();
    }

    private boolean authorized(String header) {
        if (header == null || !header.startsWith("Bearer ")) {
            return false;
        }
        byte[] given = header.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8);
        try {
            return token.orElseThrow().constantTimeEquals(given);
        } finally {
            Arrays.fill(given, (byte) 0); // the header's String stays Jetty's; this copy at least goes now
        }
    }

    private static void json(Context ctx, Object value) throws JsonProcessingException {
        jsonText(ctx, Json.mapper().writeValueAsString(value));
    }

    private static void jsonText(Context ctx, String json) {
        ctx.contentType("application/json").result(json);
    }

    private static void error(Context ctx, HttpStatus status, String message) {
        ctx.status(status).contentType("application/json").result(errorDocument(message));
    }

    /** {"error": message}: every error answer, also Jetty's own ({@link JsonErrorHandler}). */
    static String errorDocument(String message) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("error", message);
        return node.toString();
    }

    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve the API's bind address " + host, e);
        }
    }

    @Override
    public void close() {
        loop.unsubscribe(stream);
        stream.close();
        app.stop();
    }

    /** An HTTP error with the message the client gets. */
    static final class ApiError extends RuntimeException {
        final HttpStatus status;

        ApiError(HttpStatus status, String message) {
            super(message);
            this.status = status;
        }
    }
}
