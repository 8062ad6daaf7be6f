package org.memhygiene.controller.api;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty's own error answers, given before a request reaches the API's routes (400 for a malformed
 * request, 413, 414 for a URI and 431 for headers over Jetty's limits), as the JSON error document of
 * docs/API.md, {"error": "..."}, instead of Jetty's HTML page. Jetty comes with Javalin.
 */
final class JsonErrorHandler extends ErrorHandler {
    /** A request Jetty could not parse: answered from the connection, before any servlet. */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(document(status, reason));
    }

    /** An error Jetty raised while dispatching (e.g. sendError outside Javalin's handlers). */
    @Override
    public void handle(String target, Request baseRequest, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        baseRequest.setHandled(true);
        Object message = request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
        byte[] body = document(response.getStatus(), message == null ? null : message.toString());
        response.setContentType("application/json");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    private static byte[] document(int status, String reason) {
        String text = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
        return ApiServer.errorDocument("HTTP " + status + ": " + text).getBytes(StandardCharsets.UTF_8);
    }
}
