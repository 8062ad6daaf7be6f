package org.memhygiene.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.agent.server.TestAgent;
import org.memhygiene.controller.daemon.PolicyStep;
import org.memhygiene.controller.daemon.SnapshotLoop;
import org.memhygiene.controller.policy.PolicyConfig;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.host.LinuxHost;
import org.memhygiene.controller.host.TestDriverHost;
import org.memhygiene.core.ksm.SysfsTree;
import org.memhygiene.core.json.Json;
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
    private ApiServer api;
    private SysfsTree ksm;
    private Optional<SecretMemory> apiToken = Optional.empty();

    private URI start(String bind, Optional<String> token) throws Exception {
        Path socket = dir.resolve("good.sock");
        agent = TestAgent.serve(UnixDomainSocketAddress.of(socket), 50, "test-agent", scheduler);
        String uri = new TestDriverHost().domain("good", true, Optional.of(socket), false)
                .domain("plain", true, Optional.empty(), false).write(dir.resolve("host.xml"));
        ksm = SysfsTree.create(dir);
        host = new LinuxHost(uri, Duration.ofSeconds(2), Duration.ZERO, ksm.root(), Path.of("/proc"), Path.of("/sys"), Clock.systemUTC());
        PolicyConfig config = PolicyConfig.defaults();
        policy = new PolicyStep(config.policy(), mode -> config.withMode(mode).policy(), config.interval(), host, true, r -> { });
        posture = PostureScorer.of(host);
        loop = new SnapshotLoop(host, Duration.ofMillis(200), Clock.systemUTC(), List.of(policy, posture::score));
        apiToken = token.map(ApiServerTest::secret);
        api = new ApiServer(loop, posture, policy, bind, 0, apiToken, () -> "memhygiene_test 1\n",
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
        return HttpRequest.newBuilder(base.resolve(path)).PUT(HttpRequest.BodyPublishers.ofString(body));
    }

    private static HttpRequest.Builder post(URI base, String path, String body) {
        return HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body));
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
        assertEquals(100, json(send(get(base, "/api/v1/settings"))).get("pages_to_scan").asLong());
        assertEquals("v", json(send(get(base, "/api/v1/extra"))).get("k").asText());
        assertEquals("w", json(send(get(base, "/api/v1/extra?k=w"))).get("k").asText(), "query parameters reach the view");
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
        HttpResponse<String> ok = send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000, \"use_zero_pages\": 1}"));
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("1000", Files.readString(ksm.root().resolve("pages_to_scan")).strip());
        assertEquals("1", Files.readString(ksm.root().resolve("use_zero_pages")).strip());
        assertEquals("pages_to_scan", json(ok).get("changes").get(0).get("knob").asText(), ok.body());

        HttpResponse<String> bad = send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 50, \"run\": 7}"));
        assertEquals(400, bad.statusCode());
        assertTrue(json(bad).get("error").asText().contains("invalid value '7' for KSM knob run"), bad.body());
        assertEquals("1000", Files.readString(ksm.root().resolve("pages_to_scan")).strip(), "nothing was written");

        assertEquals(400, send(put(base, "/api/v1/settings", "not json")).statusCode());
        assertEquals(400, send(put(base, "/api/v1/settings", "{}")).statusCode());
        assertEquals(400, send(put(base, "/api/v1/settings", "{\"run\": {\"x\": 1}}")).statusCode());
        assertEquals(413, send(put(base, "/api/v1/settings", "{\"run\": \"" + "1".repeat(100_000) + "\"}")).statusCode());
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
        assertEquals(400, send(post(base, "/api/v1/vms/good/scrub", "{\"max_bytes\": -1}")).statusCode());
        assertEquals(400, send(post(base, "/api/v1/vms/good/scrub", "{\"bytes\": 1}")).statusCode());
    }

    @Test
    void withATokenEveryStateChangingCallNeedsItAndReadsDoNot() throws Exception {
        URI base = start("0.0.0.0", Optional.of(TOKEN));
        assertEquals(200, send(get(base, "/api/v1/status")).statusCode());
        HttpResponse<String> without = send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000}"));
        assertEquals(401, without.statusCode());
        assertEquals("Bearer", without.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(401, send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000}")
                .header("Authorization", "Bearer " + TOKEN + "x")).statusCode());
        assertEquals(401, send(post(base, "/api/v1/vms/good/scrub", "{}")).statusCode());
        HttpResponse<String> policyWithout = send(put(base, "/api/v1/policy", "{\"mode\": \"off\"}"));
        assertEquals(401, policyWithout.statusCode());
        assertEquals("adaptive", json(send(get(base, "/api/v1/policy"))).get("mode").asText(), "a refused switch changed nothing");
        assertEquals(200, send(get(base, "/api/v1/posture")).statusCode(), "reads need no token");
        assertEquals("100", Files.readString(ksm.root().resolve("pages_to_scan")).strip(), "refused calls wrote nothing");
        assertEquals(200, send(put(base, "/api/v1/settings", "{\"pages_to_scan\": 1000}")
                .header("Authorization", "Bearer " + TOKEN)).statusCode());
        assertEquals("1000", Files.readString(ksm.root().resolve("pages_to_scan")).strip());
        HttpResponse<String> policyWith = send(put(base, "/api/v1/policy", "{\"mode\": \"off\"}")
                .header("Authorization", "Bearer " + TOKEN));
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
        assertEquals(List.of("good", "plain"), List.of(posture.at("/vms/0/name").asText(), posture.at("/vms/1/name").asText()));
        JsonNode plain = posture.at("/vms/1");
        assertEquals("5e0c2c0a-7f2f-4e3c-9d43-000000000002", plain.get("uuid").asText());
        assertTrue(plain.get("findings").findValuesAsText("id").contains("vm.agent.absent"), plain.toString());
        assertTrue(plain.get("score").asInt() <= 98);
        JsonNode good = posture.at("/vms/0");
        assertTrue(!good.get("findings").findValuesAsText("id").contains("vm.agent.absent"), "its agent answers: " + good);

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
        assertEquals("ADAPTIVE", policyNow.at("/last_decision/decision/mode").asText(), policyNow.toString());

        HttpResponse<String> off = send(put(base, "/api/v1/policy", "{\"mode\": \"off\"}"));
        assertEquals(200, off.statusCode(), off.body());
        assertEquals("off", json(off).get("mode").asText());
        assertTrue(json(off).get("dry_run").asBoolean(), "what the body leaves out stays");
        assertTrue(json(off).hasNonNull("changed_at"));
        loop.tick();
        JsonNode after = json(send(get(base, "/api/v1/policy")));
        assertEquals("off", after.get("mode").asText());
        assertEquals("OFF", after.at("/last_decision/decision/mode").asText(), "the next sample decided with the new mode");
        assertEquals("nothing to do", after.at("/last_decision/outcome").asText());

        HttpResponse<String> both = send(put(base, "/api/v1/policy", "{\"mode\": \"baseline\", \"dry_run\": false}"));
        assertEquals(200, both.statusCode(), both.body());
        assertEquals("baseline", json(both).get("mode").asText());
        assertTrue(!json(both).get("dry_run").asBoolean());

        for (String[] bad : new String[][] {{"{\"mode\": \"fast\"}", "mode: expected one of [baseline, adaptive, off]"},
                {"{\"mode\": 1}", "mode: expected one of"}, {"{\"dry_run\": \"yes\"}", "dry_run: expected true or false"},
                {"{\"speed\": 1}", "unknown field \"speed\""}, {"{}", "expected {\"mode\""}, {"[1]", "expected a JSON object"},
                {"not json", "the body is not JSON"}}) {
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
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ApiServer(null, null, null, "0.0.0.0", 0, Optional.empty(), () -> "", Map.of()));
        assertTrue(e.getMessage().contains("without a token"), e.getMessage());
        try (SecretMemory shortToken = secret("short")) {
            assertEquals("the API token must be at least 16 bytes, has 5", assertThrows(IllegalArgumentException.class,
                    () -> new ApiServer(null, null, null, "127.0.0.1", 0, Optional.of(shortToken), () -> "", Map.of())).getMessage());
        }
    }

    @Test
    void theStreamSendsASnapshotNowAndOnEverySample() throws Exception {
        URI base = start("127.0.0.1", Optional.empty());
        loop.start();
        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/stream"))
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertTrue(stream.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            int events = 0;
            java.time.Instant previous = java.time.Instant.MIN;
            for (String line; events < 3 && (line = lines.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    JsonNode snapshot = Json.mapper().readTree(line.substring(6));
                    assertEquals(2, snapshot.get("vms").size());
                    assertTrue(snapshot.at("/vms/1/posture/score").isInt(), "each VM carries its posture: " + snapshot);
                    assertTrue(snapshot.at("/vms/1/posture/findings").isArray());
                    java.time.Instant sampledAt = java.time.Instant.parse(snapshot.get("sampled_at").asText());
                    assertTrue(sampledAt.isAfter(previous), "a new sample each time");
                    previous = sampledAt;
                    events++;
                }
            }
            assertEquals(3, events);
        }
    }
}
