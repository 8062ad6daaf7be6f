package org.memhygiene.simulator.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.posture.SwapDevice;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.core.units.Durations;
import org.memhygiene.simulator.ScenarioException;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.HostModel;

/**
 * Reads scenario YAML (docs/SIMULATOR.md documents every field and default). Unknown fields, wrong
 * types and out-of-range values are a {@link ScenarioException} naming the field's path and the reason.
 */
public final class ScenarioParser {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** The built-in demo scenario the dashboard runs. */
    public static final String DEMO_RESOURCE = "/org/memhygiene/simulator/scenarios/demo.yaml";

    private ScenarioParser() {}

    public static Scenario load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ScenarioException(file.toString(), "cannot read the scenario file: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    public static Scenario demo() {
        return resource(DEMO_RESOURCE);
    }

    public static Scenario resource(String name) {
        try (InputStream in = ScenarioParser.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new ScenarioException(name, "no such scenario resource");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "resource " + name);
        } catch (IOException e) {
            throw new ScenarioException(name, "cannot read: " + e.getMessage());
        }
    }

    public static Scenario parse(String yaml, String source) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ScenarioException(
                    source,
                    "not valid YAML: " + e.getOriginalMessage()
                            + (e.getLocation() != null
                                    ? " (line " + e.getLocation().getLineNr() + ")"
                                    : ""));
        }
        if (root == null || !root.isObject()) {
            throw new ScenarioException(source, "expected a YAML mapping with name, guests, ...");
        }
        return new ScenarioParser.Reader(source).scenario(root);
    }

    /** One field of the file being read: its node and its path for messages. */
    private record Field(String path, JsonNode node) {}

    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        private ScenarioException error(String path, String reason) {
            return new ScenarioException(path, reason + " (in " + source + ")");
        }

        private void allowOnly(Field f, String... names) {
            if (!f.node().isObject()) {
                throw error(f.path(), "expected a mapping, got " + describe(f.node()));
            }
            Set<String> allowed = Set.of(names);
            Iterator<String> it = f.node().fieldNames();
            while (it.hasNext()) {
                String name = it.next();
                if (!allowed.contains(name)) {
                    throw error(child(f.path(), name), "unknown field; expected one of " + String.join(", ", names));
                }
            }
        }

        private static String child(String path, String name) {
            return path.isEmpty() ? name : path + "." + name;
        }

        private static Field field(Field parent, String name) {
            JsonNode n = parent.node().get(name);
            return new Field(child(parent.path(), name), n == null || n.isNull() ? null : n);
        }

        private static String describe(JsonNode n) {
            return n.isTextual()
                    ? "'" + n.asText() + "'"
                    : n.getNodeType().name().toLowerCase(Locale.ROOT) + " " + n;
        }

        private String text(Field parent, String name, String fallback) {
            Field f = field(parent, name);
            if (f.node() == null) {
                if (fallback == null) {
                    throw error(f.path(), "required");
                }
                return fallback;
            }
            if (!f.node().isValueNode() || f.node().asText().isBlank()) {
                throw error(f.path(), "expected text, got " + describe(f.node()));
            }
            return f.node().asText();
        }

        private double number(Field parent, String name, double fallback, double min, double max) {
            Field f = field(parent, name);
            if (f.node() == null) {
                return fallback;
            }
            if (!f.node().isNumber()) {
                throw error(f.path(), "expected a number, got " + describe(f.node()));
            }
            double v = f.node().asDouble();
            if (!(v >= min && v <= max)) {
                throw error(
                        f.path(),
                        "must be from " + fmt(min) + " to " + fmt(max) + ", got "
                                + f.node().asText());
            }
            return v;
        }

        private static String fmt(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
        }

        private double fraction(Field parent, String name, double fallback) {
            return number(parent, name, fallback, 0, 1);
        }

        private boolean bool(Field parent, String name, boolean fallback) {
            Field f = field(parent, name);
            if (f.node() == null) {
                return fallback;
            }
            if (!f.node().isBoolean()) {
                throw error(f.path(), "expected true or false, got " + describe(f.node()));
            }
            return f.node().asBoolean();
        }

        private long size(Field parent, String name, String fallback) {
            Field f = field(parent, name);
            String text = f.node() == null ? fallback : f.node().asText();
            if (text == null) {
                throw error(f.path(), "required");
            }
            if (f.node() != null && !f.node().isValueNode()) {
                throw error(f.path(), "expected a size like 2GiB, got " + describe(f.node()));
            }
            String t = text.strip();
            if (t.endsWith("/s")) {
                t = t.substring(0, t.length() - 2);
            }
            try {
                return ByteSize.parse(t);
            } catch (IllegalArgumentException e) {
                throw error(f.path(), e.getMessage());
            }
        }

        private Duration duration(Field parent, String name, String fallback) {
            Field f = field(parent, name);
            String text = f.node() == null ? fallback : f.node().asText();
            if (text == null) {
                throw error(f.path(), "required");
            }
            if (f.node() != null && !f.node().isValueNode()) {
                throw error(f.path(), "expected a duration like 30s, got " + describe(f.node()));
            }
            try {
                return Durations.parse(text, "s");
            } catch (IllegalArgumentException e) {
                throw error(f.path(), e.getMessage());
            }
        }

        Scenario scenario(JsonNode rootNode) {
            Field root = new Field("", rootNode);
            allowOnly(
                    root,
                    "name",
                    "description",
                    "seed",
                    "duration",
                    "sample_interval",
                    "speed",
                    "host",
                    "ksm",
                    "defaults",
                    "guests",
                    "content_groups",
                    "events");
            String name = text(root, "name", null);
            String description = text(root, "description", name);
            long seed = (long) number(root, "seed", 1, 0, Long.MAX_VALUE);
            Duration duration = duration(root, "duration", "1h");
            Duration sampleInterval = duration(root, "sample_interval", "10s");
            if (sampleInterval.isZero()) {
                throw error("sample_interval", "must be more than 0");
            }
            double speed = number(root, "speed", 1, 0.001, 1_000_000);
            Scenario.Host host = host(field(root, "host"));
            Map<KsmKnob, String> ksm = ksm(field(root, "ksm"));
            Field defaults = field(root, "defaults");
            if (defaults.node() != null) {
                allowOnly(defaults, GUEST_FIELDS.toArray(new String[0]));
                if (defaults.node().has("name")
                        || defaults.node().has("count")
                        || defaults.node().has("uuid")) {
                    throw error("defaults", "name, count and uuid cannot have defaults");
                }
            }
            Field guestsField = field(root, "guests");
            if (guestsField.node() == null
                    || !guestsField.node().isArray()
                    || guestsField.node().isEmpty()) {
                throw error("guests", "required: a list of at least one guest");
            }
            List<GuestSpec> guests = new ArrayList<>();
            Set<String> names = new HashSet<>();
            Map<String, Integer> images = new LinkedHashMap<>();
            // A guest entry's name stands for all the guests it makes (web: web-1 ... web-16).
            Map<String, List<String>> entries = new LinkedHashMap<>();
            List<String> entryPaths = new ArrayList<>();
            for (int i = 0; i < guestsField.node().size(); i++) {
                JsonNode merged = merge(defaults.node(), guestsField.node().get(i));
                List<String> made = new ArrayList<>();
                for (GuestSpec g : guests(new Field("guests[" + i + "]", merged), host.pageSizeBytes(), name)) {
                    if (!names.add(g.name())) {
                        throw error("guests[" + i + "].name", "'" + g.name() + "' is used by more than one guest");
                    }
                    images.putIfAbsent(g.image(), images.size() + 1);
                    guests.add(g);
                    made.add(g.name());
                    entryPaths.add("guests[" + i + "]");
                }
                entries.putIfAbsent(text(new Field("guests[" + i + "]", merged), "name", null), made);
            }
            List<ContentGroup> groups = contentGroups(field(root, "content_groups"), guests, entries, seed);
            int slots = images.size();
            for (ContentGroup c : groups) {
                slots += groupSlots(c.contents());
            }
            if (slots > Content.MAX_IMAGES) {
                throw error(
                        groups.isEmpty() ? "guests" : "content_groups",
                        "at most " + Content.MAX_IMAGES
                                + " images and content groups of up to " + (Content.MAX_SHARED_INDEX + 1)
                                + " contents in all, got "
                                + images.size() + " images and " + (slots - images.size()) + " for content groups");
            }
            for (int i = 0; i < guests.size(); i++) {
                GuestSpec g = guests.get(i);
                long memoryPages = g.memoryBytes() / host.pageSizeBytes();
                long groupPages = 0;
                for (ContentGroup c : groups) {
                    int position = c.guests().indexOf(g.name());
                    groupPages += position >= 0 ? c.pagesOf(position) : 0;
                }
                if (g.layout().inUsePages() + groupPages > memoryPages) {
                    throw error(
                            groupPages > 0 ? "content_groups" : entryPaths.get(i) + ".layout",
                            g.name() + " holds "
                                    + g.layout().inUsePages() + " pages of its layout"
                                    + (groupPages > 0 ? " and " + groupPages + " of content groups" : "")
                                    + ", more than its " + memoryPages + " pages");
                }
                checkFreeMemory(
                        entryPaths.get(i) + ".free_memory",
                        g.freeMemory(),
                        memoryPages - g.layout().inUsePages() - groupPages);
            }
            long pages = 0;
            for (GuestSpec g : guests) {
                pages += g.memoryBytes() / host.pageSizeBytes();
            }
            if (pages > HostModel.MAX_PAGES) {
                throw error(
                        "guests",
                        guests.size() + " guests hold " + pages + " pages of " + host.pageSizeBytes()
                                + " bytes; the simulator models at most " + HostModel.MAX_PAGES + " pages in all");
            }
            List<EventSpec> events = events(field(root, "events"), names);
            return new Scenario(
                    name,
                    description,
                    source,
                    seed,
                    duration,
                    sampleInterval,
                    speed,
                    host,
                    ksm,
                    List.copyOf(guests),
                    groups,
                    events);
        }

        private static JsonNode merge(JsonNode defaults, JsonNode guest) {
            if (defaults == null || guest == null || !guest.isObject()) {
                return guest;
            }
            ObjectNode result = defaults.deepCopy();
            guest.fields().forEachRemaining(e -> {
                JsonNode base = result.get(e.getKey());
                result.set(
                        e.getKey(),
                        base != null && base.isObject() && e.getValue().isObject()
                                ? merge(base, e.getValue())
                                : e.getValue());
            });
            return result;
        }

        private Scenario.Host host(Field f) {
            long pageSize = DEFAULT_PAGE_SIZE_BYTES;
            if (f.node() == null) {
                return new Scenario.Host(
                        0, pageSize, DEFAULT_KSMD_NANOS_PER_PAGE, DEFAULT_HZ, 0, 0, SwapDevice.Kind.UNENCRYPTED);
            }
            allowOnly(f, "memory", "page_size", "ksmd_ns_per_page", "hz", "memory_pressure", "swap", "swap_kind");
            long memory = field(f, "memory").node() == null ? 0 : size(f, "memory", null);
            long page = field(f, "page_size").node() == null ? pageSize : size(f, "page_size", null);
            if (page < 512 || Long.bitCount(page) != 1) {
                throw error(child(f.path(), "page_size"), "must be a power of two of at least 512 bytes, got " + page);
            }
            double ns = number(f, "ksmd_ns_per_page", DEFAULT_KSMD_NANOS_PER_PAGE, 1, 1_000_000);
            int hz = (int) number(f, "hz", DEFAULT_HZ, 100, 1000);
            if (hz != 100 && hz != 250 && hz != 300 && hz != 1000) {
                throw error(child(f.path(), "hz"), "CONFIG_HZ is 100, 250, 300 or 1000, got " + hz);
            }
            double pressure = number(f, "memory_pressure", 0, 0, 100);
            long swap = field(f, "swap").node() == null ? 0 : size(f, "swap", null);
            String kindText = text(f, "swap_kind", "unencrypted");
            SwapDevice.Kind swapKind = switch (kindText) {
                case "unencrypted" -> SwapDevice.Kind.UNENCRYPTED;
                case "zram" -> SwapDevice.Kind.ZRAM;
                case "dm-crypt" -> SwapDevice.Kind.DM_CRYPT;
                default ->
                    throw error(
                            child(f.path(), "swap_kind"),
                            "expected unencrypted, zram or dm-crypt, got '" + kindText + "'");
            };
            return new Scenario.Host(memory, page, ns, hz, pressure, swap, swapKind);
        }

        private Map<KsmKnob, String> ksm(Field f) {
            Map<KsmKnob, String> values = new EnumMap<>(KsmKnob.class);
            values.put(KsmKnob.RUN, "1");
            if (f.node() == null) {
                return values;
            }
            if (!f.node().isObject()) {
                throw error(f.path(), "expected a mapping of KSM knobs, got " + describe(f.node()));
            }
            Iterator<Map.Entry<String, JsonNode>> it = f.node().fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String path = child(f.path(), e.getKey());
                KsmKnob knob = KsmKnob.byName(e.getKey())
                        .orElseThrow(() -> error(path, "unknown KSM knob; expected one of " + KsmKnob.names()));
                if (knob == KsmKnob.RUN && "2".equals(e.getValue().asText())) {
                    throw error(path, "a scenario starts with run 0 or 1");
                }
                try {
                    values.put(knob, knob.validate(e.getValue().asText()));
                } catch (IllegalArgumentException ex) {
                    throw error(path, ex.getMessage());
                }
            }
            return values;
        }

        private static final List<String> GUEST_FIELDS = List.of(
                "name",
                "count",
                "uuid",
                "image",
                "memory",
                "vcpus",
                "posture",
                "nosharepages",
                "numa_node",
                "start_at",
                "boot",
                "layout",
                "sharing",
                "free_memory",
                "churn",
                "hygiene",
                "balloon",
                "kernel");

        private List<GuestSpec> guests(Field g, long pageSize, String scenarioName) {
            allowOnly(g, GUEST_FIELDS.toArray(new String[0]));
            String name = text(g, "name", null);
            int count = (int) number(g, "count", 1, 1, 4096);
            String image = text(g, "image", "default");
            long memory = size(g, "memory", "2GiB");
            if (memory < pageSize * 64 || memory % pageSize != 0) {
                throw error(
                        child(g.path(), "memory"),
                        "must be a multiple of the page size (" + pageSize + " bytes) and at least 64 pages, got "
                                + memory + " bytes");
            }
            if (memory / pageSize > Integer.MAX_VALUE / 2) {
                throw error(child(g.path(), "memory"), "too large for one guest");
            }
            int vcpus = (int) number(g, "vcpus", 2, 1, 1024);
            String postureText = text(g, "posture", "balanced");
            PostureLevel posture = PostureLevel.parse(postureText)
                    .orElseThrow(() -> error(
                            child(g.path(), "posture"),
                            "expected dense, balanced or sensitive, got '" + postureText + "'"));
            boolean noShare = bool(g, "nosharepages", false);
            int numa = (int) number(g, "numa_node", 0, 0, 63);
            Optional<Duration> startAt = field(g, "start_at").node() != null
                            && "never".equals(field(g, "start_at").node().asText())
                    ? Optional.empty()
                    : Optional.of(duration(g, "start_at", "0s"));
            Duration boot = duration(g, "boot", "30s");
            GuestSpec.Layout layout = layout(field(g, "layout"), memory / pageSize, pageSize);
            GuestSpec.Sharing sharing = sharing(field(g, "sharing"), layout, pageSize);
            GuestSpec.FreeMemory free = freeMemory(field(g, "free_memory"), pageSize);
            GuestSpec.Churn churn = churn(field(g, "churn"));
            GuestSpec.Hygiene hygiene = hygiene(field(g, "hygiene"));
            String kernel = text(g, "kernel", DEFAULT_GUEST_KERNEL);
            Field balloon = field(g, "balloon");
            boolean balloonOn = true;
            int statsPeriod = 10;
            if (balloon.node() != null) {
                allowOnly(balloon, "enabled", "stats_period");
                balloonOn = bool(balloon, "enabled", true);
                statsPeriod = (int) duration(balloon, "stats_period", "10s").toSeconds();
            }
            if (hygiene.mode() == HygieneMode.FREE_PAGE_REPORTING && !balloonOn) {
                throw error(
                        child(g.path(), "hygiene.mode"),
                        "free_page_reporting needs the balloon (balloon.enabled: true)");
            }
            List<GuestSpec> result = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                String n = count == 1 ? name : name + "-" + i;
                String uuid = count == 1 && field(g, "uuid").node() != null
                        ? text(g, "uuid", null)
                        : UUID.nameUUIDFromBytes((scenarioName + "/" + n).getBytes(StandardCharsets.UTF_8))
                                .toString();
                result.add(new GuestSpec(
                        n,
                        uuid,
                        image,
                        memory,
                        vcpus,
                        posture,
                        noShare,
                        numa,
                        startAt,
                        boot,
                        layout,
                        sharing,
                        free,
                        churn,
                        hygiene,
                        balloonOn,
                        statsPeriod,
                        kernel));
            }
            return result;
        }

        /**
         * A share of pages: a fraction from 0 to 1, a page count ("1000 pages") or a size ("64MiB", a
         * whole number of pages).
         */
        private GuestSpec.Portion portion(Field parent, String name, GuestSpec.Portion fallback, long pageSize) {
            Field f = field(parent, name);
            if (f.node() == null) {
                return fallback;
            }
            if (f.node().isNumber()) {
                return GuestSpec.Portion.fraction(fraction(parent, name, 0));
            }
            String text = f.node().isTextual() ? f.node().asText().strip() : "";
            Matcher m = PAGE_COUNT.matcher(text);
            if (m.matches()) {
                try {
                    return GuestSpec.Portion.pages(Long.parseLong(m.group(1)));
                } catch (NumberFormatException e) {
                    throw error(f.path(), "'" + text + "' is too many pages");
                }
            }
            long bytes;
            try {
                bytes = ByteSize.parse(text);
            } catch (IllegalArgumentException e) {
                throw error(
                        f.path(),
                        "expected a fraction from 0 to 1, a page count like '1000 pages' or a size like"
                                + " 64MiB, got " + describe(f.node()));
            }
            if (bytes % pageSize != 0) {
                throw error(f.path(), text + " is not a whole number of " + pageSize + "-byte pages");
            }
            return GuestSpec.Portion.pages(bytes / pageSize);
        }

        private static final Pattern PAGE_COUNT = Pattern.compile("(\\d+)\\s*pages?");

        /**
         * The classes' pages in address order: a count as given, fractions rounded where the running
         * total of the classes so far ends (so fractions that add up to 1 fill the guest exactly).
         */
        private GuestSpec.Layout layout(Field f, long memoryPages, long pageSize) {
            String[] names = {"os_image", "page_cache", "anon", "zero", "secret"};
            double[] defaults = {0.15, 0.20, 0.25, 0.05, 0.01};
            if (f.node() != null) {
                allowOnly(f, names);
            }
            int[] pages = new int[names.length];
            double total = 0;
            long end = 0;
            for (int i = 0; i < names.length; i++) {
                GuestSpec.Portion p = f.node() == null
                        ? GuestSpec.Portion.fraction(defaults[i])
                        : portion(f, names[i], GuestSpec.Portion.fraction(defaults[i]), pageSize);
                total += p.exact() ? p.pages() : p.fraction() * memoryPages;
                long newEnd = Math.round(total);
                if (newEnd > memoryPages) {
                    throw error(
                            f.path(),
                            "the classes up to " + names[i] + " add up to " + newEnd + " pages, more than the guest's "
                                    + memoryPages);
                }
                pages[i] = (int) (newEnd - end);
                end = newEnd;
            }
            return new GuestSpec.Layout(pages[0], pages[1], pages[2], pages[3], pages[4]);
        }

        private GuestSpec.Sharing sharing(Field f, GuestSpec.Layout layout, long pageSize) {
            if (f.node() == null) {
                return DEFAULT_SHARING;
            }
            allowOnly(f, "os_image", "page_cache", "secret");
            return new GuestSpec.Sharing(
                    sharedPages(f, "os_image", DEFAULT_SHARING.osImage(), layout.osImagePages(), "os_image", pageSize),
                    sharedPages(
                            f,
                            "page_cache",
                            DEFAULT_SHARING.pageCache(),
                            layout.pageCachePages(),
                            "page_cache",
                            pageSize),
                    sharedPages(f, "secret", DEFAULT_SHARING.secret(), layout.secretPages(), "secret", pageSize));
        }

        private GuestSpec.Portion sharedPages(
                Field f, String name, GuestSpec.Portion fallback, int classPages, String layoutName, long pageSize) {
            GuestSpec.Portion p = portion(f, name, fallback, pageSize);
            if (p.exact() && p.pages() > Math.min(classPages, Content.MAX_SHARED_INDEX + 1)) {
                throw error(
                        child(f.path(), name),
                        p.pages() + " pages is more than the " + Math.min(classPages, Content.MAX_SHARED_INDEX + 1)
                                + " of layout." + layoutName
                                + (classPages > Content.MAX_SHARED_INDEX ? " the simulator shares" : ""));
            }
            return p;
        }

        private GuestSpec.FreeMemory freeMemory(Field f, long pageSize) {
            if (f.node() == null) {
                return DEFAULT_FREE;
            }
            allowOnly(f, "stale", "stale_secret", "zero");
            GuestSpec.FreeMemory m = new GuestSpec.FreeMemory(
                    portion(f, "stale", DEFAULT_FREE.stale(), pageSize),
                    portion(f, "stale_secret", DEFAULT_FREE.staleSecret(), pageSize),
                    portion(f, "zero", DEFAULT_FREE.zero(), pageSize));
            if (!m.stale().exact()
                    && !m.zero().exact()
                    && m.stale().fraction() + m.zero().fraction() > 1 + 1e-9) {
                throw error(
                        f.path(),
                        "stale + zero add up to "
                                + (m.stale().fraction() + m.zero().fraction()) + ", more than 1 (all free memory)");
            }
            return m;
        }

        /** Page counts of free memory need the free pages: the guest's memory less its layout and content groups. */
        private void checkFreeMemory(String path, GuestSpec.FreeMemory m, long freePages) {
            long stale =
                    m.stale().exact() ? m.stale().pages() : Math.round(m.stale().fraction() * freePages);
            long zero =
                    m.zero().exact() ? m.zero().pages() : Math.round(m.zero().fraction() * freePages);
            if (m.exact() && stale + zero > freePages) {
                throw error(
                        path,
                        "stale and zero come to " + (stale + zero) + " pages, more than the " + freePages
                                + " free pages");
            }
            if (m.staleSecret().exact() && m.staleSecret().pages() > stale) {
                throw error(
                        path + ".stale_secret",
                        m.staleSecret().pages() + " pages is more than the " + stale + " stale pages");
            }
        }

        /** Slots of the content-id space (as images take them) a group of {@code contents} needs. */
        static int groupSlots(int contents) {
            return (contents + Content.MAX_SHARED_INDEX) / (Content.MAX_SHARED_INDEX + 1);
        }

        private List<ContentGroup> contentGroups(
                Field f, List<GuestSpec> guests, Map<String, List<String>> entries, long seed) {
            if (f.node() == null) {
                return List.of();
            }
            if (!f.node().isArray()) {
                throw error(f.path(), "expected a list of content groups");
            }
            List<String> all = guests.stream().map(GuestSpec::name).toList();
            SplittableRandom random = new SplittableRandom(seed ^ 0x636F6E74656E74L);
            List<ContentGroup> groups = new ArrayList<>();
            Set<String> groupNames = new HashSet<>();
            for (int i = 0; i < f.node().size(); i++) {
                Field c = new Field(f.path() + "[" + i + "]", f.node().get(i));
                allowOnly(c, "name", "contents", "pages", "copies", "guests", "secret");
                String name = text(c, "name", null);
                if (!groupNames.add(name)) {
                    throw error(child(c.path(), "name"), "'" + name + "' is used by more than one content group");
                }
                int contents =
                        (int) whole(c, "contents", -1, 1, (long) Content.MAX_IMAGES * (Content.MAX_SHARED_INDEX + 1));
                Field pages = field(c, "pages");
                Field copies = field(c, "copies");
                if ((pages.node() == null) == (copies.node() == null)) {
                    throw error(
                            c.path(),
                            "give pages (spread evenly over the contents) or copies (per content), one of them");
                }
                long[] prefix = new long[contents + 1];
                if (pages.node() != null) {
                    long total = whole(c, "pages", -1, contents, Integer.MAX_VALUE);
                    for (int k = 0; k < contents; k++) {
                        prefix[k + 1] = prefix[k] + total / contents + (k < total % contents ? 1 : 0);
                    }
                } else if (copies.node().isObject()) {
                    allowOnly(copies, "zipf", "min", "max");
                    double exponent = number(copies, "zipf", Double.NaN, 0.01, 100);
                    if (Double.isNaN(exponent)) {
                        throw error(child(copies.path(), "zipf"), "required: the exponent s of P(copies = k) ~ 1/k^s");
                    }
                    int min = (int) whole(copies, "min", 1, 1, 1_000_000);
                    int max = (int) whole(copies, "max", -1, min, 1_000_000);
                    double[] cdf = new double[max - min + 1];
                    double sum = 0;
                    for (int k = min; k <= max; k++) {
                        sum += Math.pow(k, -exponent);
                        cdf[k - min] = sum;
                    }
                    for (int k = 0; k < contents; k++) {
                        int at = Arrays.binarySearch(cdf, random.nextDouble() * sum);
                        prefix[k + 1] = prefix[k] + min + (at >= 0 ? at : Math.min(-at - 1, cdf.length - 1));
                    }
                } else {
                    long each = whole(c, "copies", -1, 1, Integer.MAX_VALUE);
                    for (int k = 0; k < contents; k++) {
                        prefix[k + 1] = prefix[k] + each;
                    }
                }
                if (prefix[contents] > Integer.MAX_VALUE) {
                    throw error(c.path(), "its " + prefix[contents] + " pages are more than the simulator models");
                }
                List<String> members = new ArrayList<>();
                Field g = field(c, "guests");
                if (g.node() == null) {
                    members.addAll(all);
                } else {
                    if (!g.node().isArray() || g.node().isEmpty()) {
                        throw error(g.path(), "expected a list of guest names (or names of guest entries)");
                    }
                    for (JsonNode n : g.node()) {
                        String guest = n.asText();
                        List<String> named = entries.containsKey(guest)
                                ? entries.get(guest)
                                : all.contains(guest) ? List.of(guest) : null;
                        if (named == null) {
                            throw error(g.path(), "no guest or guest entry named '" + guest + "'");
                        }
                        for (String m : named) {
                            if (members.contains(m)) {
                                throw error(g.path(), "'" + m + "' is named twice");
                            }
                            members.add(m);
                        }
                    }
                }
                groups.add(new ContentGroup(name, members, bool(c, "secret", false), prefix));
            }
            return List.copyOf(groups);
        }

        private long whole(Field parent, String name, long fallback, long min, long max) {
            Field f = field(parent, name);
            if (f.node() == null) {
                if (fallback < 0) {
                    throw error(f.path(), "required");
                }
                return fallback;
            }
            if (!f.node().isIntegralNumber()) {
                throw error(f.path(), "expected a whole number, got " + describe(f.node()));
            }
            long v = f.node().asLong();
            if (v < min || v > max || !f.node().canConvertToLong()) {
                throw error(
                        f.path(),
                        "must be from " + min + " to " + max + ", got "
                                + f.node().asText());
            }
            return v;
        }

        private GuestSpec.Churn churn(Field f) {
            if (f.node() == null) {
                return GuestSpec.Churn.IDLE;
            }
            allowOnly(f, "anon", "page_cache", "secret", "os_image");
            double max = 1e9;
            return new GuestSpec.Churn(
                    number(f, "anon", 0, 0, max),
                    number(f, "page_cache", 0, 0, max),
                    number(f, "secret", 0, 0, max),
                    number(f, "os_image", 0, 0, max));
        }

        private GuestSpec.Hygiene hygiene(Field f) {
            if (f.node() == null) {
                return new GuestSpec.Hygiene(HygieneMode.NONE, false, DEFAULT_SCRUB, DEFAULT_FPR);
            }
            allowOnly(f, "mode", "agent", "scrub", "free_page_reporting");
            String modeText = text(f, "mode", "none");
            HygieneMode mode = HygieneMode.parse(modeText)
                    .orElseThrow(() -> error(
                            child(f.path(), "mode"),
                            "expected one of " + HygieneMode.labels() + ", got '" + modeText + "'"));
            boolean agent = bool(f, "agent", mode == HygieneMode.AGENT_SCRUB);
            if (mode == HygieneMode.AGENT_SCRUB && !agent) {
                throw error(child(f.path(), "agent"), "agent_scrub needs the agent (agent: true)");
            }
            GuestSpec.Scrub scrub = DEFAULT_SCRUB;
            Field s = field(f, "scrub");
            if (s.node() != null) {
                allowOnly(s, "rate", "min_headroom", "headroom_percent", "interval", "large_free_threshold", "max");
                scrub = new GuestSpec.Scrub(
                        size(s, "rate", "256MiB"),
                        size(s, "min_headroom", "256MiB"),
                        (int) number(s, "headroom_percent", 5, 0, 90),
                        duration(s, "interval", "5m"),
                        size(s, "large_free_threshold", "512MiB"),
                        size(s, "max", "0"));
                if (scrub.rateBytesPerSecond() == 0) {
                    throw error(child(s.path(), "rate"), "must be more than 0");
                }
            }
            GuestSpec.FreePageReporting fpr = DEFAULT_FPR;
            Field r = field(f, "free_page_reporting");
            if (r.node() != null) {
                allowOnly(r, "order", "delay");
                fpr = new GuestSpec.FreePageReporting((int) number(r, "order", 9, 0, 10), duration(r, "delay", "2s"));
            }
            return new GuestSpec.Hygiene(mode, agent, scrub, fpr);
        }

        private List<EventSpec> events(Field f, Set<String> guestNames) {
            if (f.node() == null) {
                return List.of();
            }
            if (!f.node().isArray()) {
                throw error(f.path(), "expected a list of events");
            }
            List<EventSpec> events = new ArrayList<>();
            for (int i = 0; i < f.node().size(); i++) {
                Field e = new Field("events[" + i + "]", f.node().get(i));
                allowOnly(e, "at", "guest", "guests", "action", "bytes", "hold", "content", "churn");
                Duration at = duration(e, "at", null);
                String actionText = text(e, "action", null);
                EventSpec.Action action;
                try {
                    action = EventSpec.Action.valueOf(actionText.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException ex) {
                    throw error(
                            child(e.path(), "action"),
                            "expected start, stop, allocate, free, churn or scrub, got '" + actionText + "'");
                }
                Set<String> targets = new LinkedHashSet<>();
                Field one = field(e, "guest");
                Field many = field(e, "guests");
                if (one.node() != null && many.node() != null) {
                    throw error(e.path(), "give guest or guests, not both");
                }
                if (one.node() != null) {
                    targets.add(one.node().asText());
                } else if (many.node() != null) {
                    if (!many.node().isArray()) {
                        throw error(many.path(), "expected a list of guest names");
                    }
                    many.node().forEach(n -> targets.add(n.asText()));
                } else {
                    targets.addAll(guestNames);
                }
                for (String t : targets) {
                    if (!guestNames.contains(t)) {
                        throw error(one.node() != null ? one.path() : many.path(), "no guest named '" + t + "'");
                    }
                }
                long bytes = 0;
                if (action == EventSpec.Action.ALLOCATE || action == EventSpec.Action.SCRUB) {
                    bytes = action == EventSpec.Action.ALLOCATE ? size(e, "bytes", null) : size(e, "bytes", "0");
                }
                Optional<Duration> hold =
                        field(e, "hold").node() == null ? Optional.empty() : Optional.of(duration(e, "hold", null));
                String fillText = text(e, "content", "unique");
                EventSpec.Fill fill;
                try {
                    fill = EventSpec.Fill.valueOf(fillText.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException ex) {
                    throw error(child(e.path(), "content"), "expected unique, zero or secret, got '" + fillText + "'");
                }
                Optional<GuestSpec.Churn> churn = Optional.empty();
                if (action == EventSpec.Action.CHURN) {
                    if (field(e, "churn").node() == null) {
                        throw error(child(e.path(), "churn"), "required for action churn");
                    }
                    churn = Optional.of(churn(field(e, "churn")));
                }
                events.add(new EventSpec(at, List.copyOf(targets), action, bytes, hold, fill, churn));
            }
            events.sort(Comparator.comparing(EventSpec::at));
            return List.copyOf(events);
        }
    }

    /**
     * A scenario is a deterministic model, so its page size does not follow the machine it runs on (a 64 KiB-page
     * host would otherwise give another answer for the same file): x86-64's and most hosts' 4 KiB unless
     * {@code host.page_size} says otherwise.
     */
    public static final long DEFAULT_PAGE_SIZE_BYTES = 4096;
    /** ns of ksmd CPU per page scanned: 4,118 measured by bench/sim-throughput.sh here (docs/PERFORMANCE.md, "Simulator"). */
    public static final double DEFAULT_KSMD_NANOS_PER_PAGE = 4100;
    /** The guest kernel release a scenario's guests report unless they say otherwise: Debian 12's. */
    public static final String DEFAULT_GUEST_KERNEL = "6.1.0";
    /** Debian's and most distributions' CONFIG_HZ. */
    public static final int DEFAULT_HZ = 250;

    static final GuestSpec.Sharing DEFAULT_SHARING = new GuestSpec.Sharing(
            GuestSpec.Portion.fraction(0.9), GuestSpec.Portion.fraction(0.5), GuestSpec.Portion.fraction(0));
    static final GuestSpec.FreeMemory DEFAULT_FREE = new GuestSpec.FreeMemory(
            GuestSpec.Portion.fraction(0.6), GuestSpec.Portion.fraction(0.05), GuestSpec.Portion.fraction(0.1));
    static final GuestSpec.Scrub DEFAULT_SCRUB =
            new GuestSpec.Scrub(256L << 20, 256L << 20, 5, Duration.ofMinutes(5), 512L << 20, 0);
    static final GuestSpec.FreePageReporting DEFAULT_FPR = new GuestSpec.FreePageReporting(9, Duration.ofSeconds(2));
}
