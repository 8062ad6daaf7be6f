package org.memhygiene.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.json.Json;

/** What the golden files catch and what they let pass. */
class JsonShapeTest {
    private static JsonNode shape(String json) throws Exception {
        return JsonShape.of(Json.mapper().readTree(json));
    }

    private static List<String> differences(String golden, String actual) throws Exception {
        return JsonShape.differences(shape(golden), shape(actual));
    }

    @Test
    void elementsOfAnArrayMergeIntoOneShapeAndValuesDoNotCount() throws Exception {
        assertEquals(
                Json.mapper()
                        .readTree(
                                "{\"a\":[{\"k\":\"null|number\",\"s\":\"string\",\"t\":\"boolean\"}],\"b\":\"string\"}"),
                shape("{\"b\":\"x\",\"a\":[{\"k\":1,\"s\":\"y\"},{\"k\":null,\"s\":\"z\",\"t\":true}]}"));
        assertEquals(
                List.of(), differences("{\"a\":[{\"k\":1}],\"b\":\"x\"}", "{\"a\":[{\"k\":2},{\"k\":3}],\"b\":\"y\"}"));
    }

    @Test
    void aRenamedDroppedAddedOrRetypedFieldIsADifference() throws Exception {
        assertEquals(
                List.of(
                        "$.a[].k: missing (the golden file has \"number\")",
                        "$.a[].key: new (\"number\"), not in the golden file"),
                differences("{\"a\":[{\"k\":1}]}", "{\"a\":[{\"key\":1}]}"));
        assertEquals(
                List.of("$.mode: number, the golden file has string"), differences("{\"mode\":\"x\"}", "{\"mode\":1}"));
        assertEquals(
                List.of("$.ksm: object, the golden file has string"),
                differences("{\"ksm\":\"run=0\"}", "{\"ksm\":{\"run\":0}}"));
    }

    @Test
    void aNullOrAnEmptyArrayOnEitherSideMatches() throws Exception {
        assertEquals(List.of(), differences("{\"d\":null,\"e\":[]}", "{\"d\":{\"x\":1},\"e\":[{\"y\":2}]}"));
        assertEquals(List.of(), differences("{\"d\":{\"x\":1}}", "{\"d\":null}"));
    }

    @Test
    void aMapsKeysAreDataNotFields() throws Exception {
        Set<String> maps = Set.of("decision.ksm");
        JsonNode one = JsonShape.of(Json.mapper().readTree("[{\"decision\":{\"ksm\":{\"run\":1}}}]"), maps);
        JsonNode other = JsonShape.of(
                Json.mapper().readTree("{\"decision\":{\"ksm\":{\"smart_scan\":0,\"pages_to_scan\":9}}}"), maps);
        assertEquals(Json.mapper().readTree("[{\"decision\":{\"ksm\":{\"*\":\"number\"}}}]"), one);
        assertEquals(List.of(), JsonShape.differences(one.get(0), other));
        assertEquals(
                List.of("$.decision.ksm.*: string, the golden file has number"),
                JsonShape.differences(
                        one.get(0),
                        JsonShape.of(Json.mapper().readTree("{\"decision\":{\"ksm\":{\"run\":\"x\"}}}"), maps)));
    }
}
