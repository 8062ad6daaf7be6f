package org.memhygiene.simulator.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.memhygiene.core.config.ConfigSection;
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
        long pages = (1L << 30) / s.host().pageSizeBytes();
        assertEquals(
                Math.round(pages * 0.85) - Math.round(pages * 0.35),
                s.guests().get(0).layout().anonPages(),
                "anon ends where os_image + page_cache + anon (0.15 + 0.2 + 0.5) of the guest end");
        assertEquals(
                Math.round(pages * 0.92) - Math.round(pages * 0.9),
                s.guests().get(0).layout().secretPages());
        assertEquals(1L << 30, s.guests().get(1).memoryBytes());
        assertTrue(!s.guests().get(0).uuid().equals(s.guests().get(1).uuid()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            guests: [{name: a, colour: red}]                          | guests[0].colour     | unknown key
            guests: [{name: a, memory: lots}]                         | guests[0].memory     | expected bytes
            guests: [{name: a, layout: {anon: 0.9, os_image: 0.5}}]   | guests[0].layout     | more than the guest's
            guests: [{name: a, layout: {anon: 1.5}}]                  | guests[0].layout.anon | expected a number from 0 to 1
            guests: [{name: a, hygiene: {mode: bleach}}]              | guests[0].hygiene.mode | expected one of none, agent_scrub
            guests: [{name: a, posture: paranoid}]                    | guests[0].posture    | dense, balanced or sensitive
            guests: [{name: a}, {name: a}]                            | guests[1].name       | more than one guest
            guests: []                                                | guests               | at least one guest
            {ksm: {pages_to_scan: -1}, guests: [{name: a}]}           | ksm.pages_to_scan    | invalid value '-1'
            {ksm: {pages_shared: 1}, guests: [{name: a}]}             | ksm.pages_shared     | unknown key
            {guests: [{name: a}], events: [{at: 1s, guest: b, action: stop}]} | events[0].guest | no guest named 'b'
            {guests: [{name: a}], events: [{at: 1s, action: explode}]} | events[0].action    | expected start, stop
            {guests: [{name: a}], events: [{at: 1s, action: allocate}]} | events[0].bytes     | required
            {guests: [{name: a, boot: soon}]}                         | guests[0].boot       | expected a duration
            {guests: [{name: a, hygiene: {mode: free_page_reporting}, balloon: {enabled: false}}]} | guests[0].hygiene.mode | needs the balloon
            guests: [{name: a, count: 4000, memory: 512GiB}]          | guests               | at most 2147483631 pages in all
            {host: {swap_kind: floppy}, guests: [{name: a}]}           | host.swap_kind       | expected unencrypted, zram or dm-crypt
            {host: {memory_pressure: 101}, guests: [{name: a}]}        | host.memory_pressure | expected a number from 0 to 100
            {host: {swap: much}, guests: [{name: a}]}                  | host.swap            | expected bytes
            guests: [{name: a, layout: {anon: lots}}]                 | guests[0].layout.anon | a page count like '1000 pages'
            guests: [{name: a, layout: {anon: 3000 pages, zero: 3KiB}}] | guests[0].layout.zero | not a whole number of
            guests: [{name: a, memory: 16MiB, layout: {anon: 5000 pages}}] | guests[0].layout | more than the guest's
            guests: [{name: a, memory: 16MiB, sharing: {os_image: 1000 pages}}] | guests[0].sharing.os_image | more than the
            guests: [{name: a, memory: 16MiB, free_memory: {stale: 3000 pages}}] | guests[0].free_memory | more than the
            guests: [{name: a, memory: 16MiB, free_memory: {stale: 10 pages, stale_secret: 11 pages}}] | guests[0].free_memory.stale_secret | more than the 10 stale pages
            {guests: [{name: a}], content_groups: [{name: c, contents: 10}]} | content_groups[0] | give pages
            {guests: [{name: a}], content_groups: [{name: c, contents: 0, copies: 2}]} | content_groups[0].contents | expected a whole number from 1
            {guests: [{name: a}], content_groups: [{name: c, contents: 10, pages: 9}]} | content_groups[0].pages | expected a whole number from 10
            {guests: [{name: a}], content_groups: [{name: c, contents: 10, copies: 2.5}]} | content_groups[0].copies | expected a whole number
            {guests: [{name: a}], content_groups: [{name: c, contents: 10, copies: {zipf: 1.2}}]} | content_groups[0].copies.max | required
            {guests: [{name: a}], content_groups: [{name: c, contents: 10, copies: {max: 9}}]} | content_groups[0].copies.zipf | required
            {guests: [{name: a}], content_groups: [{guests: [b], name: c, contents: 10, copies: 2}]} | content_groups[0].guests | no guest or guest entry named 'b'
            {guests: [{name: a}], content_groups: [{name: c, contents: 1, copies: 2}, {name: c, contents: 1, copies: 2}]} | content_groups[1].name | more than one content group
            {guests: [{name: a, memory: 1MiB}], content_groups: [{name: c, contents: 1000, copies: 2}]} | content_groups | more than its
            """)
    void invalidFilesNameTheFieldAndTheReason(String body, String field, String reason) {
        String yaml = "name: bad\n"
                + (body.startsWith("{")
                        ? body.substring(1, body.length() - 1)
                                .replace(", events", "\nevents")
                                .replace(", guests", "\nguests")
                                .replace(", content_groups", "\ncontent_groups")
                        : body)
                + "\n";
        ScenarioException e = assertThrows(ScenarioException.class, () -> ScenarioParser.parse(yaml, "bad.yaml"), yaml);
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(e.getMessage().contains("bad.yaml"), e.getMessage());
    }

    @Test
    void aFileThatIsNotYamlOrMissesItsNameIsRejected() {
        assertThrows(ScenarioException.class, () -> ScenarioParser.parse("name: [unclosed", "x"));
        ScenarioException e =
                assertThrows(ScenarioException.class, () -> ScenarioParser.parse("guests: [{name: a}]", "x"));
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

    /** The file and why it cannot be read: Java's NoSuchFileException says only the path. */
    @Test
    void loadNamesTheFileThatCannotBeReadAndWhy(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.yaml");
        Path big = Files.write(dir.resolve("big.yaml"), new byte[(int) ConfigSection.MAX_FILE_BYTES + 1]);
        Map<Path, String> reasons = Map.of(
                missing, "cannot read it: no such file or directory",
                dir, "cannot read it: Is a directory",
                big, "larger than 1048576 bytes: not a scenario");
        reasons.forEach((file, reason) -> assertEquals(
                file + ": " + reason,
                assertThrows(ScenarioException.class, () -> ScenarioParser.load(file))
                        .getMessage()));
    }

    private static final String COUNTS = """
            name: counts
            defaults: {memory: 64MiB, layout: {os_image: 0, page_cache: 100 pages, anon: 0.5, zero: 1MiB, secret: 0}}
            guests:
              - {name: web, count: 3}
              - {name: db}
            content_groups:
              - {name: libs, contents: 4, pages: 10, guests: [web]}
              - {name: keys, contents: 2, copies: 3, guests: [db, web-2], secret: true}
              - {name: long-tail, contents: 1000, copies: {zipf: 1.1, max: 50}}
            """;

    @Test
    void pageCountsAreExactAndContentGroupsAreDealtOverTheirGuests() {
        Scenario s = ScenarioParser.parse(COUNTS, "test");
        GuestSpec.Layout l = s.guests().get(0).layout();
        long pages = (64L << 20) / s.host().pageSizeBytes();
        assertEquals(100, l.pageCachePages());
        assertEquals(Math.round(100 + pages * 0.5) - 100, l.anonPages());
        assertEquals((1 << 20) / s.host().pageSizeBytes(), l.zeroPages());
        ContentGroup libs = s.contentGroups().get(0);
        assertEquals(List.of("web-1", "web-2", "web-3"), libs.guests());
        assertEquals(
                List.of(3L, 3L, 2L, 2L),
                IntStream.range(0, 4).mapToObj(libs::copies).toList(),
                "10 pages over 4 contents: the first two get the extra page");
        assertEquals(4, libs.pagesOf(0), "pages 0, 3, 6, 9 of the deal");
        assertEquals(3, libs.pagesOf(2));
        // The deal: content 0 to web-1, web-2, web-3; content 1 to web-1, web-2, web-3; content 2 to web-1 ...
        assertEquals(
                List.of(0, 1, 2, 3),
                LongStream.range(0, 4).mapToObj(j -> libs.contentAt(0, j)).toList());
        ContentGroup keys = s.contentGroups().get(1);
        assertEquals(List.of("db", "web-2"), keys.guests());
        assertEquals(3, keys.pagesOf(0), "6 pages over 2 guests");
        assertEquals(
                List.of(0, 0, 1),
                LongStream.range(0, 3).mapToObj(j -> keys.contentAt(0, j)).toList(),
                "a content with more copies than guests has duplicates within a guest");
        assertEquals(
                libs.pagesOf(1) + keys.pagesOf(1) + s.contentGroups().get(2).pagesOf(1), s.groupPages("web-2"));
        ContentGroup tail = s.contentGroups().get(2);
        long ones = IntStream.range(0, 1000).filter(i -> tail.copies(i) == 1).count();
        // P(1) = 1 / (sum of k^-1.1 for k = 1..50) = 0.29.
        assertTrue(
                ones > 230 && ones < 350 && tail.pages() < 1000 * 50, "Zipf(1.1) on 1..50: about 29 % single: " + ones);
        assertEquals(
                tail,
                ScenarioParser.parse(COUNTS, "again").contentGroups().get(2),
                "the same seed draws the same copies");
    }
}
