package org.memhygiene.core.ksm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KsmSettingsTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "run=3|invalid value '3' for KSM knob run: expected an integer from 0 to 2",
                "run=-1|invalid value '-1' for KSM knob run: expected an integer from 0 to 2",
                "pages_to_scan=4294967296|invalid value '4294967296' for KSM knob pages_to_scan: expected an integer from 0 to 4294967295",
                "pages_to_scan=1e3|invalid value '1e3' for KSM knob pages_to_scan",
                "sleep_millisecs=99999999999999999999|invalid value '99999999999999999999' for KSM knob sleep_millisecs",
                "max_page_sharing=1|invalid value '1' for KSM knob max_page_sharing: expected an integer from 2 to 2147483647",
                "use_zero_pages=maybe|invalid value 'maybe' for KSM knob use_zero_pages: expected 0 or 1",
                "advisor_mode=fast|invalid value 'fast' for KSM knob advisor_mode: expected one of none, scan-time",
                "advisor_max_cpu=101|invalid value '101' for KSM knob advisor_max_cpu: expected an integer from 1 to 100",
                "pages_shared=1|pages_shared is a read-only KSM counter, not a knob",
                "bogus=1|unknown KSM knob 'bogus'",
                "run|'run' is not KEY=VALUE",
            })
    void rejectsWithTheKnobTheValueAndWhatIsAllowed(String assignment, String expectedMessage) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> KsmSettings.parse(List.of(assignment)));
        assertTrue(e.getMessage().contains(expectedMessage), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was written"), e.getMessage());
    }

    @Test
    void oneInvalidValueRejectsTheWholeSetAndReportsEveryProblem() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> KsmSettings.parse(List.of("run=1", "pages_to_scan=x", "sleep_millisecs=-5")));
        assertTrue(e.getMessage().contains("pages_to_scan"), e.getMessage());
        assertTrue(e.getMessage().contains("sleep_millisecs"), e.getMessage());
    }

    @Test
    void normalisesBooleansAndNumbers() {
        KsmSettings settings = KsmSettings.parse(List.of("use_zero_pages=on", "smart_scan=no", "pages_to_scan=0100"));
        assertEquals("1", settings.get(KsmKnob.USE_ZERO_PAGES));
        assertEquals("0", settings.get(KsmKnob.SMART_SCAN));
        assertEquals("100", settings.get(KsmKnob.PAGES_TO_SCAN));
    }

    @Test
    void writesUnmergeFirstAndRunLastAdvisorBeforePagesToScan() {
        assertEquals(
                List.of("advisor_mode", "pages_to_scan", "use_zero_pages", "run"),
                List.copyOf(
                        KsmSettings.parse(List.of("run=1", "use_zero_pages=1", "pages_to_scan=10", "advisor_mode=none"))
                                .asMap()
                                .keySet()));
        assertEquals(
                List.of("run", "merge_across_nodes"),
                List.copyOf(KsmSettings.parse(List.of("merge_across_nodes=0", "run=2"))
                        .asMap()
                        .keySet()));
    }

    @Test
    void rejectsContradictions() {
        assertThrows(
                IllegalArgumentException.class,
                () -> KsmSettings.parse(List.of("advisor_mode=scan-time", "pages_to_scan=100")));
        assertThrows(
                IllegalArgumentException.class,
                () -> KsmSettings.parse(List.of("advisor_min_pages_to_scan=900", "advisor_max_pages_to_scan=100")));
        assertThrows(IllegalArgumentException.class, () -> KsmSettings.parse(List.of("run=1", "run=0")));
        assertThrows(IllegalArgumentException.class, () -> KsmSettings.parse(List.of()));
    }

    @Test
    void ofValidatesToo() {
        assertThrows(IllegalArgumentException.class, () -> KsmSettings.of(Map.of(KsmKnob.RUN, "7")));
        assertEquals("1", KsmSettings.of(Map.of(KsmKnob.RUN, "1")).get(KsmKnob.RUN));
    }
}
