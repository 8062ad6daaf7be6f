package org.memhygiene.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.daemon.PolicyStep;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.probe.ProbeRunner;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.ksm.SysfsTree;
import org.memhygiene.secret.SecretMemory;

/**
 * The API end to end on loopback: a daemon loop over libvirt's test driver (a VM with the real agent's
 * server behind its channel, one without a channel), KSM in a sysfs tree of the test's own (so PUT
 * /settings writes files, not this machine's KSM), real HTTP requests.
 */
class ApiServerTest {
    private static final String TOKEN = "0123456789abcdef-test-token";

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private ServerSocketChannel agent;
    private LinuxHost host;
    private SnapshotLoop loop;
    private PolicyStep policy;
    private PostureScorer posture;
    private ProbeRunner probes;
    private ApiServer api;
    private SysfsTree ksm;
    private Optional<SecretMemory> apiToken = Optional.empty();

    private URI start(String bind, Optional<String> token) throws Exception {
        Path socket = dir.resolve("good.sock");
        agent = TestAgent.serve(UnixDomainSocketAddress.of(socket), 50, "test-agent", scheduler);
        String uri = new TestDriverHost()
                .domain("good", true, Optional.of(socket), false)
                .domain("plain", true, Optional.empty(), false)
                .write(dir.resolve("host.xml"));
        ksm = SysfsTree.create(dir);
        host = new LinuxHost(
                uri,
                Duration.ofSeconds(2),
                Duration.ZERO,
                ksm.root(),
                Path.of("/proc"),
                Path.of("/sys"),
                Clock.systemUTC());
        PolicyConfig config = PolicyConfig.defaults();
        policy = new PolicyStep(
                config.policy(), mode -> config.withMode(mode).policy(), config.interval(), host, true, r -> {});
        probes = new ProbeRunner(host, Clock.systemUTC());
        posture = PostureScorer.of(host, probes::latest);
        loop = new SnapshotLoop(host, Duration.ofMillis(200), Clock.systemUTC(), List.of(policy, posture::score));
        apiToken = token.map(ApiServerTest::secret);
        api = new ApiServer(
                loop,
                posture,
                policy,
                probes,
                bind,
                0,
                apiToken,
                () -> "memhygiene_test 1\n",
                Map.of("extra", query -> Map.of("k", query.getOrDefault("k", "v"))));
        loop.tick();
        api.start();
        return URI.create("http://127.0.0.1:" + api.port());
    }

    @AfterEach
    void stop() throws Exception {
        if (api != null) {
            api.close();
        }
        if (loop != null) {
            loop.close();
        }
        if (policy != null) {
            policy.close();
        }
        if (host != null) {
            host.close();
        }
        if (agent != null) {
            agent.close();
        }
        scheduler.shutdownNow();
        apiToken.ifPresent(SecretMemory::close);
    }

    /** The token as the daemon holds it: in secret memory. */
    private static SecretMemory secret(String token) {
        byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
        SecretMemory secret = new SecretMemory(bytes.length);
        secret.write(0, bytes);
        return secret;
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder get(URI base, String path) {
        return HttpRequest.newBuilder(base.resolve(path));
    }

    private static HttpRequest.Builder put(URI base, String path, String body) {
        return HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body));
    }

    private static HttpRequest.Builder post(URI base, String path, String body) {
        return HttpRequest.newBuilder(base.resolve(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    /** A status line, headers and body as a raw socket received them. */
    private record RawResponse(int status, String headers, String body) {
        JsonNode json() throws Exception {
            return Json.mapper().readTree(body);
        }
    }

    /**
     * Sends {@code head} (request line and headers, CRLF-separated, without the blank line) and
     * {@code body} as they are, over a plain socket: what HttpClient will not send (a Host of our
     * choosing, a malformed request, a chunked body that never ends).
     */
    private static RawResponse raw(URI base, String head, byte[] body) throws Exception {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write((head + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
            return readResponse(socket.getInputStream());
        }
    }

    private static RawResponse readResponse(InputStream in) throws Exception {
        DataInputStream data = new DataInputStream(new BufferedInputStream(in));
        StringBuilder headers = new StringBuilder();
        String status = readLine(data);
        long length = -1;
        for (String line = readLine(data); !line.isEmpty(); line = readLine(data)) {
            headers.append(line).append('\n');
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Long.parseLong(line.substring(15).strip());
            }
        }
        byte[] body = length >= 0 ? data.readNBytes((int) length) : data.readAllBytes();
        return new RawResponse(
                Integer.parseInt(status.split(" ")[1]), headers.toString(), new String(body, StandardCharsets.UTF_8));
    }

    private static String readLine(DataInputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("the server closed after: " + line);
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    private String pagesToScan() throws Exception {
        return Files.readString(ksm.root().resolve("pages_to_scan")).strip();
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    @Test
    void readsTheLatestSnapshotVmsStatusMetricsAndExtraViews() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        JsonNode status = json(send(get(base, "/api/v1/status")));
        assertEquals("libvirt " + host.uri(), status.get("backend").asText());
        assertTrue(status.get("samples").asLong() >= 1);
        JsonNode vms = json(send(get(base, "/api/v1/vms")));
        assertEquals(2, vms.get("vms").size());
        JsonNode good = json(send(get(base, "/api/v1/vms/good")));
        assertEquals("OK", good.at("/agent/status").asText(), good.toString());
        assertEquals(
                100,
                json(send(get(base, "/api/v1/settings"))).get("pages_to_scan").asLong());
        assertEquals("v", json(send(get(base, "/api/v1/extra"))).get("k").asText());
        assertEquals(
                "w", json(send(get(base, "/api/v1/extra?k=w"))).get("k").asText(), "query parameters reach the view");
        HttpResponse<String> metrics = send(get(base, "/metrics"));
        assertEquals("memhygiene_test 1\n", metrics.body());
        assertTrue(metrics.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));

        HttpResponse<String> missing = send(get(base, "/api/v1/vms/nosuch"));
        assertEquals(404, missing.statusCode());
        assertEquals("no VM named 'nosuch'", json(missing).get("error").asText());
        HttpResponse<String> nowhere = send(get(base, "/api/v2/everything"));
        assertEquals(404, nowhere.statusCode());
        assertTrue(json(nowhere).get("error").asText().startsWith("no such resource: GET /api/v2/everything"));
    }

    @Test
    void settingsAreAllOrNothingAndBadRequestsGet4xxWithAMessage() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        HttpResponse<String> ok =
                send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000, \"use_zero_pages\": 1}"));
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(
                "1000", Files.readString(ksm.root().resolve("pages_to_scan")).strip());
        assertEquals("1", Files.readString(ksm.root().resolve("use_zero_pages")).strip());
        assertEquals("pages_to_scan", json(ok).get("changes").get(0).get("knob").asText(), ok.body());

        HttpResponse<String> bad = send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 50, \"run\": 7}"));
        assertEquals(400, bad.statusCode());
        assertTrue(json(bad).get("error").asText().contains("invalid value '7' for KSM knob run"), bad.body());
        assertEquals(
                "1000", Files.readString(ksm.root().resolve("pages_to_scan")).strip(), "nothing was written");

        assertEquals(400, send(put(base, "/api/v1/settings", "not json")).statusCode());
        assertEquals(400, send(put(base, "/api/v1/settings", "{}")).statusCode());
        assertEquals(
                400,
                send(put(base, "/api/v1/settings", "{\"run\": {\"x\": 1}}")).statusCode());
        assertEquals(
                413,
                send(put(base, "/api/v1/settings", "{\"run\": \"" + "1".repeat(100_000) + "\"}"))
                        .statusCode());
    }

    @Test
    void aKeyTwiceContentAfterTheBodyAndBytesThatAreNotUtf8Are400sThatSaySo() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        HttpResponse<String> twice =
                send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000, \"pages_to_scan\": 2000}"));
        assertEquals(400, twice.statusCode());
        assertTrue(
                json(twice).get("error").asText().startsWith("the body is not JSON: duplicate key 'pages_to_scan'"),
                twice.body());
        HttpResponse<String> garbage = send(put(base, "/api/v1/policy", "{\"mode\": \"off\"} garbage"));
        assertEquals(400, garbage.statusCode(), garbage.body());
        HttpResponse<String> second = send(put(base, "/api/v1/policy", "{\"mode\": \"off\"} {\"mode\": \"baseline\"}"));
        assertEquals(400, second.statusCode());
        assertTrue(
                json(second)
                        .get("error")
                        .asText()
                        .startsWith("the body is not JSON: trailing content after the document"),
                second.body());
        byte[] latin1 = "{\"mode\": \"off\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
        HttpResponse<String> notUtf8 = http.send(
                HttpRequest.newBuilder(base.resolve("/api/v1/policy"))
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(latin1))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, notUtf8.statusCode());
        assertEquals(
                "the body is not JSON: not UTF-8: byte 13 (0xe9) is not part of a valid UTF-8 sequence",
                json(notUtf8).get("error").asText());
        assertEquals("100", pagesToScan(), "nothing was written");
        assertEquals(
                "adaptive", json(send(get(base, "/api/v1/policy"))).get("mode").asText(), "nothing was switched");
    }

    @Test
    void aChunkedBodyIsReadNoFurtherThanTheLimit() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(20_000);
            // The answer is read while the body is still being sent: the server answers after 64 KiB (what it
            // reads after that, until the client stops, Jetty discards). Before, the whole body was read into
            // the heap, and this never-closed JSON was a 400.
            CompletableFuture<RawResponse> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return readResponse(socket.getInputStream());
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            OutputStream out = socket.getOutputStream();
            out.write(("PUT /api/v1/policy HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk =
                    ("{\"mode\": \"off\", \"x\": \"" + "a".repeat(64 * 1024)).getBytes(StandardCharsets.US_ASCII);
            long sentBytes = 0; // written to this side's socket, not what the server read
            try {
                // Up to 80 MiB, the body of issue 13 that the server used to read whole into its heap.
                while (sentBytes < 80L << 20 && !answer.isDone()) {
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    sentBytes += chunk.length;
                }
            } catch (IOException e) {
                // the server closed the connection after its answer: that is the point
            }
            RawResponse response = answer.get(20, TimeUnit.SECONDS);
            assertEquals(413, response.status(), response.toString());
            assertEquals(
                    "the body is larger than 65536 bytes",
                    response.json().get("error").asText());
            assertTrue(response.headers().toLowerCase(Locale.ROOT).contains("connection: close"), response.headers());
        }
        assertEquals(
                "adaptive", json(send(get(base, "/api/v1/policy"))).get("mode").asText(), "nothing was switched");
        assertEquals(200, send(get(base, "/api/v1/status")).statusCode(), "the server goes on");
    }

    @Test
    void stateChangesNeedThisApisHostNoForeignOriginAndJsonTokenOrNot() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        int port = base.getPort();
        String put = "PUT /api/v1/settings HTTP/1.1\r\nConnection: close\r\nContent-Length: 22\r\n";
        byte[] body = "{\"pages_to_scan\": 999}".getBytes(StandardCharsets.US_ASCII);
        // DNS rebinding: the attacker's name resolves to 127.0.0.1, the browser sends it as Host.
        RawResponse rebound =
                raw(base, put + "Host: rebind.attacker.example:" + port + "\r\nContent-Type: application/json", body);
        assertEquals(403, rebound.status(), rebound.toString());
        assertTrue(rebound.json()
                .get("error")
                .asText()
                .startsWith("Host rebind.attacker.example:" + port + " is not this API's"));
        assertEquals(
                403,
                raw(base, put.replace("HTTP/1.1", "HTTP/1.0") + "Content-Type: application/json", body)
                        .status(),
                "no Host at all (HTTP/1.0; Jetty refuses an HTTP/1.1 request without one itself)");
        // A web page's cross-site POST: a foreign Origin, and text/plain (a "simple" request needs no preflight).
        HttpResponse<String> crossSite = send(HttpRequest.newBuilder(base.resolve("/api/v1/vms/good/scrub"))
                .header("Origin", "http://evil.example")
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"max_bytes\": 4194304}")));
        assertEquals(403, crossSite.statusCode(), crossSite.body());
        assertEquals(
                "cross-origin request from Origin http://evil.example refused",
                json(crossSite).get("error").asText());
        assertEquals(
                403,
                send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 999}").header("Origin", "null"))
                        .statusCode());
        HttpResponse<String> plain = send(HttpRequest.newBuilder(base.resolve("/api/v1/settings"))
                .header("Content-Type", "text/plain")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"pages_to_scan\": 999}")));
        assertEquals(415, plain.statusCode());
        assertEquals(
                "a state-changing call sends JSON: Content-Type: application/json, was text/plain",
                json(plain).get("error").asText());
        assertEquals(
                415,
                send(HttpRequest.newBuilder(base.resolve("/api/v1/settings"))
                                .PUT(HttpRequest.BodyPublishers.ofString("{\"pages_to_scan\": 999}")))
                        .statusCode(),
                "no Content-Type");
        assertEquals("100", pagesToScan(), "no refused call wrote anything");
        loop.tick(); // asks the agent again (agent interval 0)
        JsonNode agentNow = json(send(get(base, "/api/v1/vms/good"))).at("/agent/stats/scrub/scrubs_run");
        assertEquals(0, agentNow.asLong(-1), "no refused call scrubbed: " + agentNow);

        // What is allowed: loopback names and addresses, an Origin of this API, a charset parameter.
        for (String host : List.of("localhost:" + port, "127.0.0.1:" + port, "127.0.0.1", "LOCALHOST")) {
            RawResponse ok =
                    raw(base, put + "Host: " + host + "\r\nContent-Type: application/json; charset=UTF-8", body);
            assertEquals(200, ok.status(), host + ": " + ok);
        }
        assertEquals(
                200,
                send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000}")
                                .header("Origin", "http://127.0.0.1:" + port))
                        .statusCode());
        assertEquals("1000", pagesToScan());
        assertEquals(
                200,
                raw(
                                base,
                                "GET /api/v1/status HTTP/1.1\r\nConnection: close\r\nHost: rebind.attacker.example",
                                new byte[0])
                        .status(),
                "reads are not checked (docs/API.md)");
    }

    @Test
    void theHostCheckHoldsWithATokenAndAllowsTheBindAddress() throws Exception {
        URI base = start("0.0.0.0", Optional.of(TOKEN));
        String put = "PUT /api/v1/settings HTTP/1.1\r\nConnection: close\r\nContent-Length: 23\r\n"
                + "Content-Type: application/json\r\nAuthorization: Bearer " + TOKEN + "\r\n";
        byte[] body = "{\"pages_to_scan\": 1000}".getBytes(StandardCharsets.US_ASCII);
        assertEquals(
                403,
                raw(base, put + "Host: rebind.attacker.example", body).status(),
                "the token does not excuse the Host");
        assertEquals("100", pagesToScan());
        // Bound to every address: this machine's own addresses are its names.
        String own = Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
                .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress())
                .map(InetAddress::getHostAddress)
                .findFirst()
                .orElse("127.0.0.2");
        RawResponse ok = raw(base, put + "Host: " + own + ":" + base.getPort(), body);
        assertEquals(200, ok.status(), own + ": " + ok);
        assertEquals("1000", pagesToScan());
    }

    @Test
    void jettysOwnErrorsAreTheJsonErrorDocument() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        String tail = " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close";
        RawResponse uriTooLong = raw(base, "GET /api/v1/" + "x".repeat(20_000) + tail, new byte[0]);
        RawResponse headersTooLarge =
                raw(base, "GET /api/v1/status" + tail + "\r\nX-Big: " + "y".repeat(20_000), new byte[0]);
        RawResponse badLength = raw(base, "PUT /api/v1/policy" + tail + "\r\nContent-Length: lots", new byte[0]);
        RawResponse badRequestLine = raw(base, "GET /api/v1/status HTTP/9.9\r\nHost: 127.0.0.1", new byte[0]);
        for (var entry : Map.of(414, uriTooLong, 431, headersTooLarge, 400, badLength, 505, badRequestLine)
                .entrySet()) {
            RawResponse r = entry.getValue();
            assertEquals(entry.getKey(), r.status(), r.toString());
            assertTrue(r.headers().toLowerCase(Locale.ROOT).contains("content-type: application/json"), r.toString());
            assertTrue(r.json().get("error").asText().startsWith("HTTP " + entry.getKey() + ": "), r.toString());
        }
    }

    @Test
    void scrubGoesToTheVmsAgentAndSaysWhyWhenItCannot() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        HttpResponse<String> scrub = send(post(base, "/api/v1/vms/good/scrub", "{\"max_bytes\": 4194304}"));
        assertEquals(200, scrub.statusCode(), scrub.body());
        assertEquals(4194304, json(scrub).get("bytes_zeroed").asLong());
        HttpResponse<String> noChannel = send(post(base, "/api/v1/vms/plain/scrub", ""));
        assertEquals(409, noChannel.statusCode());
        assertTrue(json(noChannel).get("error").asText().contains("plain has no org.memhygiene.agent.0 channel"));
        assertEquals(
                400,
                send(post(base, "/api/v1/vms/good/scrub", "{\"max_bytes\": -1}"))
                        .statusCode());
        assertEquals(
                400,
                send(post(base, "/api/v1/vms/good/scrub", "{\"bytes\": 1}")).statusCode());
    }

    @Test
    void aDedupProbeRunsInTheBackgroundAndItsMeasurementBecomesThePosture() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        assertEquals(
                "none",
                json(send(get(base, "/api/v1/probes/dedup"))).get("status").asText());
        HttpResponse<String> started = send(post(
                base,
                "/api/v1/probes/dedup",
                "{\"vms\": [\"good\", \"plain\"], \"pages\": 16, \"full_scans\": 1, \"deadline_seconds\": 30}"));
        assertEquals(202, started.statusCode(), started.body());
        assertEquals(
                List.of("good", "plain"),
                Json.mapper().convertValue(json(started).at("/request/vms"), List.class));
        JsonNode state = json(send(get(base, "/api/v1/probes/dedup")));
        // A probe's end is its own event: the report appears when the runner finishes (bounded, not timed).
        for (int i = 0; i < 3000 && state.get("status").asText().equals("running"); i++) {
            Thread.sleep(20);
            state = json(send(get(base, "/api/v1/probes/dedup")));
        }
        assertEquals("done", state.get("status").asText(), state.toString());
        assertEquals("probed", state.at("/report/vms/0/outcome").asText(), state.toString());
        assertEquals("no_agent", state.at("/report/vms/1/outcome").asText(), state.toString());
        assertTrue(state.at("/report/vms/1/detail").asText().contains("channel"), state.toString());
        assertEquals(4096, state.at("/report/page_size_bytes").asLong(), state.toString());
        String measuredAt = state.at("/report/measured_at").asText();
        assertFalse(hasMeasuredAt(json(send(get(base, "/api/v1/posture"))), "good"), "a sample before the probe");
        loop.tick();
        JsonNode posture = json(send(get(base, "/api/v1/posture")));
        assertTrue(hasMeasuredAt(posture, "good"), "the next sample's posture carries the probe: " + posture);
        for (JsonNode vm : posture.get("vms")) {
            if (vm.get("name").asText().equals("good")) {
                assertEquals(measuredAt, vm.get("measured_at").asText());
                assertTrue(vm.toString().contains("host.ksm.cross_vm_"), vm.toString());
            }
        }

        assertEquals(
                400, send(post(base, "/api/v1/probes/dedup", "{\"pages\": 0}")).statusCode());
        assertEquals(
                400,
                send(post(base, "/api/v1/probes/dedup", "{\"pages\": \"many\"}"))
                        .statusCode());
        assertEquals(
                400,
                send(post(base, "/api/v1/probes/dedup", "{\"nonce\": \"00\"}")).statusCode());
        assertEquals(
                404,
                send(post(base, "/api/v1/probes/dedup", "{\"vms\": [\"nope\"]}"))
                        .statusCode());
    }

    private static boolean hasMeasuredAt(JsonNode posture, String name) {
        for (JsonNode vm : posture.path("vms")) {
            if (vm.path("name").asText().equals(name)) {
                return !vm.path("measured_at").isNull();
            }
        }
        return false;
    }

    @Test
    void withATokenEveryStateChangingCallNeedsItAndReadsDoNot() throws Exception {
        URI base = start("0.0.0.0", Optional.of(TOKEN));
        assertEquals(200, send(get(base, "/api/v1/status")).statusCode());
        assertEquals(401, send(post(base, "/api/v1/probes/dedup", "{}")).statusCode(), "a probe changes guests");
        HttpResponse<String> without = send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000}"));
        assertEquals(401, without.statusCode());
        assertEquals("Bearer", without.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(
                401,
                send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000}")
                                .header("Authorization", "Bearer " + TOKEN + "x"))
                        .statusCode());
        assertEquals(401, send(post(base, "/api/v1/vms/good/scrub", "{}")).statusCode());
        HttpResponse<String> policyWithout = send(put(base, "/api/v1/policy", "{\"mode\": \"off\"}"));
        assertEquals(401, policyWithout.statusCode());
        assertEquals(
                "adaptive",
                json(send(get(base, "/api/v1/policy"))).get("mode").asText(),
                "a refused switch changed nothing");
        assertEquals(200, send(get(base, "/api/v1/posture")).statusCode(), "reads need no token");
        assertEquals(
                "100", Files.readString(ksm.root().resolve("pages_to_scan")).strip(), "refused calls wrote nothing");
        assertEquals(
                200,
                send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000}")
                                .header("Authorization", "Bearer " + TOKEN))
                        .statusCode());
        assertEquals(
                "1000", Files.readString(ksm.root().resolve("pages_to_scan")).strip());
        HttpResponse<String> policyWith =
                send(put(base, "/api/v1/policy", "{\"mode\": \"off\"}").header("Authorization", "Bearer " + TOKEN));
        assertEquals(200, policyWith.statusCode(), policyWith.body());
        assertEquals("off", json(policyWith).get("mode").asText());
    }

    @Test
    void postureIsServedForTheHostAndInEveryVmDocument() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        HttpResponse<String> response = send(get(base, "/api/v1/posture"));
        assertEquals(200, response.statusCode(), response.body());
        JsonNode posture = json(response);
        int hostScore = posture.at("/host/score").asInt(-1);
        assertTrue(hostScore >= 0 && hostScore <= 100, posture.toString());
        assertTrue(posture.at("/host/findings").size() >= 1, "at least what KSM does");
        JsonNode first = posture.at("/host/findings/0");
        for (String key : List.of("id", "severity", "title", "evidence", "remediation")) {
            assertTrue(first.hasNonNull(key), key + " in " + first);
        }
        assertEquals(
                List.of("good", "plain"),
                List.of(
                        posture.at("/vms/0/name").asText(),
                        posture.at("/vms/1/name").asText()));
        JsonNode plain = posture.at("/vms/1");
        assertEquals("5e0c2c0a-7f2f-4e3c-9d43-000000000002", plain.get("uuid").asText());
        assertTrue(plain.get("findings").findValuesAsText("id").contains("vm.agent.absent"), plain.toString());
        assertTrue(plain.get("score").asInt() <= 98);
        JsonNode good = posture.at("/vms/0");
        assertTrue(
                !good.get("findings").findValuesAsText("id").contains("vm.agent.absent"), "its agent answers: " + good);

        JsonNode vms = json(send(get(base, "/api/v1/vms")));
        assertEquals(plain.get("score"), vms.at("/vms/1/posture/score"));
        assertEquals(plain.get("findings"), vms.at("/vms/1/posture/findings"));
        JsonNode one = json(send(get(base, "/api/v1/vms/plain")));
        assertEquals(plain.get("score"), one.at("/posture/score"));
        assertEquals(plain.get("findings"), one.at("/posture/findings"));
    }

    @Test
    void thePolicyModeAndDryRunAreReadAndSwitchedAndBadBodiesAre400() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        JsonNode policyNow = json(send(get(base, "/api/v1/policy")));
        assertEquals("adaptive", policyNow.get("mode").asText());
        assertTrue(policyNow.get("dry_run").asBoolean());
        assertEquals(60000, policyNow.get("interval_millis").asLong());
        assertTrue(policyNow.get("changed_at").isNull());
        assertEquals("adaptive", policyNow.at("/last_decision/decision/mode").asText(), policyNow.toString());

        HttpResponse<String> off = send(put(base, "/api/v1/policy", "{\"mode\": \"off\"}"));
        assertEquals(200, off.statusCode(), off.body());
        assertEquals("off", json(off).get("mode").asText());
        assertTrue(json(off).get("dry_run").asBoolean(), "what the body leaves out stays");
        assertTrue(json(off).hasNonNull("changed_at"));
        loop.tick();
        JsonNode after = json(send(get(base, "/api/v1/policy")));
        assertEquals("off", after.get("mode").asText());
        assertEquals(
                "off", after.at("/last_decision/decision/mode").asText(), "the next sample decided with the new mode");
        assertEquals("nothing to do", after.at("/last_decision/outcome").asText());

        HttpResponse<String> both = send(put(base, "/api/v1/policy", "{\"mode\": \"baseline\", \"dry_run\": false}"));
        assertEquals(200, both.statusCode(), both.body());
        assertEquals("baseline", json(both).get("mode").asText());
        assertTrue(!json(both).get("dry_run").asBoolean());

        for (String[] bad : new String[][] {
            {"{\"mode\": \"fast\"}", "mode: expected one of [baseline, adaptive, off]"},
            {"{\"mode\": 1}", "mode: expected one of"},
            {"{\"dry_run\": \"yes\"}", "dry_run: expected true or false"},
            {"{\"speed\": 1}", "unknown field \"speed\""},
            {"{}", "expected {\"mode\""},
            {"[1]", "expected a JSON object"},
            {"not json", "the body is not JSON"}
        }) {
            HttpResponse<String> refused = send(put(base, "/api/v1/policy", bad[0]));
            assertEquals(400, refused.statusCode(), bad[0]);
            assertTrue(json(refused).get("error").asText().contains(bad[1]), bad[0] + " -> " + refused.body());
        }
        JsonNode unchanged = json(send(get(base, "/api/v1/policy")));
        assertEquals("baseline", unchanged.get("mode").asText(), "refused bodies changed nothing");
        assertTrue(!unchanged.get("dry_run").asBoolean());
    }

    @Test
    void listeningBeyondLoopbackWithoutATokenIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new ApiServer(null, null, null, null, "0.0.0.0", 0, Optional.empty(), () -> "", Map.of()));
        assertTrue(e.getMessage().contains("without a token"), e.getMessage());
        try (SecretMemory shortToken = secret("short")) {
            assertEquals(
                    "the API token must be at least 16 bytes, has 5",
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> new ApiServer(
                                            null,
                                            null,
                                            null,
                                            null,
                                            "127.0.0.1",
                                            0,
                                            Optional.of(shortToken),
                                            () -> "",
                                            Map.of()))
                            .getMessage());
        }
    }

    @Test
    void theStreamSendsASnapshotNowAndOnEverySample() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        loop.start();
        HttpResponse<InputStream> stream = http.send(
                HttpRequest.newBuilder(base.resolve("/api/v1/stream"))
                        .header("Accept", "text/event-stream")
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertTrue(stream.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        HttpResponse<String> notSse = send(get(base, "/api/v1/stream"));
        assertEquals(406, notSse.statusCode(), "without Accept: text/event-stream");
        assertTrue(json(notSse).get("error").asText().contains("send Accept: text/event-stream"), notSse.body());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            int events = 0;
            Instant previous = Instant.MIN;
            for (String line; events < 3 && (line = lines.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    JsonNode snapshot = Json.mapper().readTree(line.substring(6));
                    assertEquals(2, snapshot.get("vms").size());
                    assertTrue(snapshot.at("/vms/1/posture/score").isInt(), "each VM carries its posture: " + snapshot);
                    assertTrue(snapshot.at("/vms/1/posture/findings").isArray());
                    Instant sampledAt = Instant.parse(snapshot.get("sampled_at").asText());
                    assertTrue(sampledAt.isAfter(previous), "a new sample each time");
                    previous = sampledAt;
                    events++;
                }
            }
            assertEquals(3, events);
        }
    }
}
