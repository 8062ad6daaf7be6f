package org.memhygiene.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** A GET against a daemon's API on loopback that must answer 200: the tests that drive a whole daemon share it. */
public final class LoopbackApi {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private LoopbackApi() {}

    public static String getOk(int port, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return r.body();
    }
}
