package org.memhygiene.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The shape of a JSON document: what a golden file holds. An object keeps its keys (sorted) with the shape of
 * each value; an array is one element, the shape of all its elements merged; a scalar is its type: "string",
 * "number", "boolean", "null", or several joined by "|" where they differ between elements ("number|null").
 * Values, array lengths and key order are not part of it, so a golden file changes only when a field is
 * renamed, dropped, added or changes type.
 */
final class JsonShape {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private JsonShape() {}

    static JsonNode of(JsonNode value) {
        return of(value, Set.of());
    }

    /**
     * {@code maps}: path suffixes (e.g. {@code decision.ksm}, matched against paths like
     * {@code $[].decision.ksm}) of objects whose keys are data, not fields (a knob map, file name → text):
     * their shape is one key "*" with their values' shapes merged.
     */
    static JsonNode of(JsonNode value, Set<String> maps) {
        return of("$", value, maps);
    }

    private static JsonNode of(String path, JsonNode value, Set<String> maps) {
        if (value.isObject()) {
            ObjectNode shape = NODES.objectNode();
            if (maps.stream().anyMatch(m -> path.endsWith("." + m))) {
                JsonNode merged = null;
                for (JsonNode element : value) {
                    JsonNode one = of(path + ".*", element, maps);
                    merged = merged == null ? one : merge(merged, one);
                }
                return shape.set("*", merged == null ? TextNode.valueOf("null") : merged);
            }
            Map<String, JsonNode> fields = new TreeMap<>();
            value.fields()
                    .forEachRemaining(e -> fields.put(e.getKey(), of(path + "." + e.getKey(), e.getValue(), maps)));
            fields.forEach(shape::set);
            return shape;
        }
        if (value.isArray()) {
            ArrayNode shape = NODES.arrayNode();
            JsonNode merged = null;
            for (JsonNode element : value) {
                JsonNode one = of(path + "[]", element, maps);
                merged = merged == null ? one : merge(merged, one);
            }
            if (merged != null) {
                shape.add(merged);
            }
            return shape;
        }
        return TextNode.valueOf(scalar(value));
    }

    private static String scalar(JsonNode value) {
        if (value.isNumber()) {
            return "number";
        }
        if (value.isTextual()) {
            return "string";
        }
        if (value.isBoolean()) {
            return "boolean";
        }
        return "null";
    }

    /** Two shapes as one: the union of an object's keys, the types of a scalar joined. */
    static JsonNode merge(JsonNode a, JsonNode b) {
        if (a.isObject() && b.isObject()) {
            ObjectNode shape = NODES.objectNode();
            Map<String, JsonNode> fields = new TreeMap<>();
            a.fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue()));
            b.fields().forEachRemaining(e -> fields.merge(e.getKey(), e.getValue(), JsonShape::merge));
            fields.forEach(shape::set);
            return shape;
        }
        if (a.isArray() && b.isArray()) {
            if (a.isEmpty() || b.isEmpty()) {
                return a.isEmpty() ? b : a;
            }
            return NODES.arrayNode().add(merge(a.get(0), b.get(0)));
        }
        if (a.isTextual() && a.asText().equals("null")) {
            return b.isTextual() ? union(b.asText(), "null") : b;
        }
        if (b.isTextual() && b.asText().equals("null")) {
            return a.isTextual() ? union(a.asText(), "null") : a;
        }
        return union(describe(a), describe(b));
    }

    private static TextNode union(String a, String b) {
        return TextNode.valueOf(String.join("|", union(a + "|" + b)));
    }

    private static TreeSet<String> union(String types) {
        return new TreeSet<>(List.of(types.split("\\|")));
    }

    private static String describe(JsonNode shape) {
        return shape.isObject() ? "object" : shape.isArray() ? "array" : shape.asText();
    }

    /**
     * Where {@code actual} (a shape) departs from {@code golden}: keys missing or new, and values of another type.
     * A null seen on one side matches anything on the other (the run that made the golden file, or this one,
     * may have had nothing there), and an empty array matches any array.
     */
    static List<String> differences(JsonNode golden, JsonNode actual) {
        List<String> out = new ArrayList<>();
        compare("$", golden, actual, out);
        return out;
    }

    private static void compare(String path, JsonNode golden, JsonNode actual, List<String> out) {
        if (isNull(golden) || isNull(actual)) {
            return;
        }
        if (golden.isObject() && actual.isObject()) {
            for (Iterator<String> names = golden.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!actual.has(name)) {
                    out.add(path + "." + name + ": missing (the golden file has " + golden.get(name) + ")");
                } else {
                    compare(path + "." + name, golden.get(name), actual.get(name), out);
                }
            }
            for (Iterator<String> names = actual.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!golden.has(name)) {
                    out.add(path + "." + name + ": new (" + actual.get(name) + "), not in the golden file");
                }
            }
            return;
        }
        if (golden.isArray() && actual.isArray()) {
            if (!golden.isEmpty() && !actual.isEmpty()) {
                compare(path + "[]", golden.get(0), actual.get(0), out);
            }
            return;
        }
        String want = describe(golden);
        String got = describe(actual);
        if (!union(want)
                .containsAll(union(got).stream().filter(t -> !t.equals("null")).toList())) {
            out.add(path + ": " + got + ", the golden file has " + want);
        }
    }

    private static boolean isNull(JsonNode shape) {
        return shape.isTextual() && shape.asText().equals("null");
    }
}
