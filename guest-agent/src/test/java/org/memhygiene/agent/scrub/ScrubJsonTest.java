package org.memhygiene.agent.scrub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.agent.ScrubCounters;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.json.Json;

/** The scrub records as the agent's stats message and a config file carry them. */
class ScrubJsonTest {
    @Test
    void countersSerializeWithSnakeCaseKeysAndAnAbsentLastReportAsNull() throws Exception {
        assertEquals(
                "{\"scrubs_run\":0,\"total_bytes_zeroed\":0,\"last_report\":null}",
                Json.mapper().writeValueAsString(ScrubCounters.NONE).replaceAll("\\s", ""));
        ScrubReport report = new ScrubReport(ScrubReport.Outcome.COMPLETED, "", 4096, 4096, 1, 4096000.0, 1, 0);
        JsonNode json = Json.mapper().valueToTree(ScrubCounters.NONE.plus(report));
        assertEquals(1, json.get("scrubs_run").asLong());
        assertEquals(4096, json.get("total_bytes_zeroed").asLong());
        assertEquals("COMPLETED", json.get("last_report").get("outcome").asText());
        assertEquals(
                new ScrubCounters(1, 4096, Optional.of(report)), Json.mapper().treeToValue(json, ScrubCounters.class));
    }

    @Test
    void configRoundTripsAndBadValuesKeepTheirMessage() throws Exception {
        ScrubConfig config = ScrubConfig.defaults().withMaxRate(0);
        String text = Json.mapper().writeValueAsString(config);
        assertTrue(text.contains("\"min_headroom_bytes\""), text);
        assertEquals(config, Json.mapper().readValue(text, ScrubConfig.class));
        ValueInstantiationException e = assertThrows(
                ValueInstantiationException.class,
                () -> Json.mapper().readValue(text.replace("\"nice\" : 19", "\"nice\" : 42"), ScrubConfig.class));
        assertTrue(e.getMessage().contains("nice = 42: expected a nice value in [-20, 19]"), e.getMessage());
    }
}
