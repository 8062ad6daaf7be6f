package org.memhygiene.core.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.memhygiene.core.json.Json;
import picocli.CommandLine.Option;

/**
 * {@link CommandOutput} with the one {@code --json} option: the command prints its documented document
 * (docs/CLI.md) with the project's one mapper ({@link Json#mapper()}) instead of text.
 */
public final class JsonOutput extends CommandOutput {
    @Option(names = "--json", description = "Print JSON instead of text (stable keys, documented in docs/CLI.md).")
    private boolean json;

    public boolean json() {
        return json;
    }

    /** {@code document} as indented JSON, then a newline. */
    public void print(Object document) {
        out().println(write(document, true));
        out().flush();
    }

    /** {@code document} as one line of JSON (a stream of documents, {@code ksm watch --json}). */
    public void printLine(Object document) {
        out().println(write(document, false));
        out().flush();
    }

    private static String write(Object document, boolean indent) {
        try {
            return (indent
                            ? Json.mapper().writer()
                            : Json.mapper().writer().without(SerializationFeature.INDENT_OUTPUT))
                    .writeValueAsString(document);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
