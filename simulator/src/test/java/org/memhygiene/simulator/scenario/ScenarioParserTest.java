package org.memhygiene.simulator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.simulator.ScenarioException;

class ScenarioParserTest {
    @Test
    void defaultsFillEveryFieldTheFileLeavesOut() {
        Scenario s = ScenarioParser.parse("name: min\nguests:\n  - {name: a}\n", "test");
        GuestSpec g = s.guests().get(0);
        assertEquals(2L << 30, g.memoryBytes());
        assertEquals(HygieneMode.NONE, g.hygiene().mode());
        assertEquals(Duration.ofHours(1), s.duration());
        assertEquals("1", s.ksm().get(KsmKnob.RUN));
        assertEquals(Duration.ofSeconds(30), g.boot());
        assertEquals(GuestSpec.Churn.IDLE, g.churn());
        assertEquals("6.1.0", g.kernel());
        assertEquals(0, s.host().memoryPressurePercent());
        assertEquals(0, s.host().swapBytes());
    }

    @Test
    void countMakesNumberedGuestsAndDefaultsMergeDeeply() {
        Scenario s = ScenarioParser.parse("""
                name: d
                defaults: {memory: 1GiB, layout: {anon: 0.5}}
                guests:
                  - {name: web, count: 3, layout: {secret: 0.02}}
                """, "test");
        assertEquals(3, s.guests().size());
        assertEquals("web-3", s.guests().get(2).name());
        assertEquals(0.5, s.guests().get(0).layout().anon());
        assertEquals(0.02, s.guests().get(0).layout().secret());
        assertEquals(1L << 30, s.guests().get(1).memoryBytes());
        assertTrue(!s.guests().get(0).uuid().equals(s.guests().get(1).uuid()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            guests: [{name: a, colour: red}]                          | guests[0].colour     | unknown field
            guests: [{name: a, memory: lots}]                         | guests[0].memory     | not a size
            guests: [{name: a, layout: {anon: 0.9, os_image: 0.5}}]   | guests[0].layout     | more than 1
            guests: [{name: a, layout: {anon: 1.5}}]                  | guests[0].layout.anon | must be from 0 to 1
            guests: [{name: a, hygiene: {mode: bleach}}]              | guests[0].hygiene.mode | expected one of none, agent_scrub
            guests: [{name: a, posture: paranoid}]                    | guests[0].posture    | dense, balanced or sensitive
            guests: [{name: a}, {name: a}]                            | guests[1].name       | more than one guest
            guests: []                                                | guests               | at least one guest
            {ksm: {pages_to_scan: -1}, guests: [{name: a}]}           | ksm.pages_to_scan    | invalid value '-1'
            {ksm: {pages_shared: 1}, guests: [{name: a}]}             | ksm.pages_shared     | unknown KSM knob
            {guests: [{name: a}], events: [{at: 1s, guest: b, action: stop}]} | events[0].guest | no guest named 'b'
            {guests: [{name: a}], events: [{at: 1s, action: explode}]} | events[0].action    | expected start, stop
            {guests: [{name: a}], events: [{at: 1s, action: allocate}]} | events[0].bytes     | required
            {guests: [{name: a, boot: soon}]}                         | guests[0].boot       | not a duration
            {guests: [{name: a, hygiene: {mode: free_page_reporting}, balloon: {enabled: false}}]} | guests[0].hygiene.mode | needs the balloon
            guests: [{name: a, count: 4000, memory: 512GiB}]          | guests               | at most 2147483631 pages in all
            {host: {swap_kind: floppy}, guests: [{name: a}]}           | host.swap_kind       | expected unencrypted, zram or dm-crypt
            {host: {memory_pressure: 101}, guests: [{name: a}]}        | host.memory_pressure | must be from 0 to 100
            {host: {swap: much}, guests: [{name: a}]}                  | host.swap            | not a size
            """)
    void invalidFilesNameTheFieldAndTheReason(String body, String field, String reason) {
        String yaml = "name: bad\n" + (body.startsWith("{") ? body.substring(1, body.length() - 1).replace(", events", "\nevents")
                .replace(", guests", "\nguests") : body) + "\n";
        ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(yaml, "bad.yaml"), yaml);
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(e.getMessage().contains("bad.yaml"), e.getMessage());
    }

    @Test
    void aFileThatIsNotYamlOrMissesItsNameIsRejected() {
        assertThrows(ScenarioException.class, () -> ScenarioParser.parse("name: [unclosed", "x"));
        ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse("guests: [{name: a}]", "x"));
        assertEquals("name", e.field());
    }

    @Test
    void everyShippedScenarioParses() throws IOException {
        ScenarioParser.demo();
        Path dir = Path.of("../docs/scenarios");
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(f -> f.toString().endsWith(".yaml")).forEach(ScenarioParser::load);
        }
    }

    @Test
    void loadNamesTheFileThatCannotBeRead(@TempDir Path dir) {
        ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.load(dir.resolve("nope.yaml")));
        assertTrue(e.getMessage().contains("nope.yaml"));
    }
}
