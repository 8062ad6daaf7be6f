package org.memhygiene.simulator.scenario;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
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
import org.memhygiene.core.config.ConfigException;
import org.memhygiene.core.config.ConfigSection;
import org.memhygiene.core.host.PostureLevel;
import org.memhygiene.core.ksm.KsmKnob;
import org.memhygiene.core.linux.Errno;
import org.memhygiene.core.posture.SwapDevice;
import org.memhygiene.core.units.ByteSize;
import org.memhygiene.simulator.ScenarioException;
import org.memhygiene.simulator.model.Content;
import org.memhygiene.simulator.model.HostModel;

/**
 * Reads scenario YAML (docs/SIMULATOR.md documents every field and default) with the project's one
 * configuration reader ({@link ConfigSection}): unknown keys, wrong types and out-of-range values are a
 * {@link ScenarioException} naming the key's path, the value, what was expected and the file.
 */
public final class ScenarioParser {
    /** The built-in demo scenario the dashboard runs. */
    public static final String DEMO_RESOURCE = "/org/memhygiene/simulator/scenarios/demo.yaml";
    /** Durations in a scenario: from nothing to ten years of simulated time. */
    private static final Duration MAX_DURATION = Duration.ofDays(3650);

    private ScenarioParser() {}

    public static Scenario load(Path file) {
        byte[] bytes;
        try {
            bytes = ConfigSection.readFile(file, "scenario");
        } catch (ConfigException e) {
            throw new ScenarioException(file.toString(), e.getMessage());
        }
        return parse(bytes, file.toString());
    }

    public static Scenario demo() {
        return resource(DEMO_RESOURCE);
    }

    public static Scenario resource(String name) {
        try (InputStream in = ScenarioParser.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new ScenarioException(name, "no such scenario resource");
            }
            return parse(in.readAllBytes(), "resource " + name);
        } catch (IOException e) {
            throw new ScenarioException(name, "cannot read it: " + Errno.describe(e));
        }
    }

    public static Scenario parse(String yaml, String source) {
        return parse(yaml.getBytes(StandardCharsets.UTF_8), source);
    }

    private static Scenario parse(byte[] yaml, String source) {
        try {
            return new Reader(source).scenario(ConfigSection.parse(yaml, TOP_KEYS, warning -> {}));
        } catch (ConfigException e) {
            throw new ScenarioException(e, source);
        }
    }

    private static final List<String> TOP_KEYS = List.of(
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

    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        private static Duration duration(ConfigSection s, String key, Duration otherwise) {
            return s.duration(key, otherwise, Duration.ZERO, MAX_DURATION);
        }

        private static String required(ConfigSection s, String key) {
            return s.require(key).text(key).orElseThrow();
        }

        Scenario scenario(ConfigSection root) {
            String name = required(root, "name");
            String description = root.text("description").orElse(name);
            long seed = root.whole("seed", 1, 0, Long.MAX_VALUE);
            Duration duration = duration(root, "duration", Duration.ofHours(1));
            Duration sampleInterval = duration(root, "sample_interval", Duration.ofSeconds(10));
            if (sampleInterval.isZero()) {
                throw root.invalid("sample_interval", "must be more than 0");
            }
            double speed = root.decimal("speed", 1, 0.001, 1_000_000);
            Scenario.Host host = host(root.optionalSection("host", HOST_KEYS));
            Map<KsmKnob, String> ksm = ksm(root.section(
                    "ksm",
                    Arrays.stream(KsmKnob.values()).map(KsmKnob::fileName).toList()));
            Optional<ConfigSection> defaults = root.optionalSection("defaults", GUEST_FIELDS);
            if (defaults.isPresent()) {
                if (defaults.get().has("name")
                        || defaults.get().has("count")
                        || defaults.get().has("uuid")) {
                    throw root.invalid("defaults", "name, count and uuid cannot have defaults");
                }
            }
            List<ConfigSection> entriesGiven = root.sections("guests", GUEST_FIELDS, defaults);
            if (entriesGiven.isEmpty()) {
                throw root.invalid("guests", "required: a list of at least one guest");
            }
            List<GuestSpec> guests = new ArrayList<>();
            Set<String> names = new HashSet<>();
            Map<String, Integer> images = new LinkedHashMap<>();
            // A guest entry's name stands for all the guests it makes (web: web-1 ... web-16).
            Map<String, List<String>> entries = new LinkedHashMap<>();
            List<ConfigSection> entryOf = new ArrayList<>();
            for (ConfigSection entry : entriesGiven) {
                List<String> made = new ArrayList<>();
                for (GuestSpec g : guests(entry, host.pageSizeBytes(), name)) {
                    if (!names.add(g.name())) {
                        throw entry.invalid("name", "'" + g.name() + "' is used by more than one guest");
                    }
                    images.putIfAbsent(g.image(), images.size() + 1);
                    guests.add(g);
                    made.add(g.name());
                    entryOf.add(entry);
                }
                entries.putIfAbsent(required(entry, "name"), made);
            }
            List<ContentGroup> groups = contentGroups(root, guests, entries, seed);
            int slots = images.size();
            for (ContentGroup c : groups) {
                slots += groupSlots(c.contents());
            }
            if (slots > Content.MAX_IMAGES) {
                throw root.invalid(
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
                    String reason = g.name() + " holds "
                            + g.layout().inUsePages() + " pages of its layout"
                            + (groupPages > 0 ? " and " + groupPages + " of content groups" : "")
                            + ", more than its " + memoryPages + " pages";
                    throw groupPages > 0
                            ? root.invalid("content_groups", reason)
                            : entryOf.get(i).invalid("layout", reason);
                }
                checkFreeMemory(
                        entryOf.get(i), g.freeMemory(), memoryPages - g.layout().inUsePages() - groupPages);
            }
            long pages = 0;
            for (GuestSpec g : guests) {
                pages += g.memoryBytes() / host.pageSizeBytes();
            }
            if (pages > HostModel.MAX_PAGES) {
                throw root.invalid(
                        "guests",
                        guests.size() + " guests hold " + pages + " pages of " + host.pageSizeBytes()
                                + " bytes; the simulator models at most " + HostModel.MAX_PAGES + " pages in all");
            }
            List<EventSpec> events = events(root, names);
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

        private static final List<String> HOST_KEYS =
                List.of("memory", "page_size", "ksmd_ns_per_page", "hz", "memory_pressure", "swap", "swap_kind");

        private Scenario.Host host(Optional<ConfigSection> given) {
            if (given.isEmpty()) {
                return new Scenario.Host(
                        0,
                        DEFAULT_PAGE_SIZE_BYTES,
                        DEFAULT_KSMD_NANOS_PER_PAGE,
                        DEFAULT_HZ,
                        0,
                        0,
                        SwapDevice.Kind.UNENCRYPTED);
            }
            ConfigSection f = given.get();
            long memory = f.bytes("memory", 0, 0);
            long page = f.bytes("page_size", DEFAULT_PAGE_SIZE_BYTES, 512);
            if (Long.bitCount(page) != 1) {
                throw f.invalid("page_size", "must be a power of two of at least 512 bytes, got " + page);
            }
            double ns = f.decimal("ksmd_ns_per_page", DEFAULT_KSMD_NANOS_PER_PAGE, 1, 1_000_000);
            int hz = (int) f.whole("hz", DEFAULT_HZ, 100, 1000);
            if (hz != 100 && hz != 250 && hz != 300 && hz != 1000) {
                throw f.invalid("hz", "CONFIG_HZ is 100, 250, 300 or 1000, got " + hz);
            }
            double pressure = f.decimal("memory_pressure", 0, 0, 100);
            long swap = f.bytes("swap", 0, 0);
            String kindText = f.text("swap_kind").orElse("unencrypted");
            SwapDevice.Kind swapKind = switch (kindText) {
                case "unencrypted" -> SwapDevice.Kind.UNENCRYPTED;
                case "zram" -> SwapDevice.Kind.ZRAM;
                case "dm-crypt" -> SwapDevice.Kind.DM_CRYPT;
                default -> throw f.wrong("swap_kind", kindText, "unencrypted, zram or dm-crypt");
            };
            return new Scenario.Host(memory, page, ns, hz, pressure, swap, swapKind);
        }

        private Map<KsmKnob, String> ksm(ConfigSection f) {
            Map<KsmKnob, String> values = new EnumMap<>(KsmKnob.class);
            values.put(KsmKnob.RUN, "1");
            for (String key : f.keys()) {
                KsmKnob knob = KsmKnob.byName(key).orElseThrow();
                String value = String.valueOf(f.value(key).orElse(""));
                if (knob == KsmKnob.RUN && "2".equals(value)) {
                    throw f.invalid(key, "a scenario starts with run 0 or 1");
                }
                try {
                    values.put(knob, knob.validate(value));
                } catch (IllegalArgumentException ex) {
                    throw f.invalid(key, ex.getMessage());
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

        private List<GuestSpec> guests(ConfigSection g, long pageSize, String scenarioName) {
            String name = required(g, "name");
            int count = (int) g.whole("count", 1, 1, 4096);
            String image = g.text("image").orElse("default");
            long memory = g.bytes("memory", 2L << 30, pageSize * 64);
            if (memory % pageSize != 0) {
                throw g.invalid(
                        "memory",
                        "must be a multiple of the page size (" + pageSize + " bytes), got " + memory + " bytes");
            }
            if (memory / pageSize > Integer.MAX_VALUE / 2) {
                throw g.invalid("memory", "too large for one guest");
            }
            int vcpus = (int) g.whole("vcpus", 2, 1, 1024);
            String postureText = g.text("posture").orElse("balanced");
            PostureLevel posture = PostureLevel.parse(postureText)
                    .orElseThrow(() -> g.wrong("posture", postureText, "dense, balanced or sensitive"));
            boolean noShare = g.bool("nosharepages", false);
            int numa = (int) g.whole("numa_node", 0, 0, 63);
            Optional<Duration> startAt =
                    g.value("start_at").filter("never"::equals).isPresent()
                            ? Optional.empty()
                            : Optional.of(duration(g, "start_at", Duration.ZERO));
            Duration boot = duration(g, "boot", Duration.ofSeconds(30));
            GuestSpec.Layout layout = layout(g, memory / pageSize, pageSize);
            GuestSpec.Sharing sharing = sharing(g, layout, pageSize);
            GuestSpec.FreeMemory free = freeMemory(g, pageSize);
            GuestSpec.Churn churn = churn(g.optionalSection("churn", CHURN_KEYS));
            GuestSpec.Hygiene hygiene = hygiene(g.optionalSection("hygiene", HYGIENE_KEYS));
            String kernel = g.text("kernel").orElse(DEFAULT_GUEST_KERNEL);
            ConfigSection balloon = g.section("balloon", List.of("enabled", "stats_period"));
            boolean balloonOn = balloon.bool("enabled", true);
            int statsPeriod = (int)
                    duration(balloon, "stats_period", Duration.ofSeconds(10)).toSeconds();
            if (hygiene.mode() == HygieneMode.FREE_PAGE_REPORTING && !balloonOn) {
                throw g.invalid("hygiene.mode", "free_page_reporting needs the balloon (balloon.enabled: true)");
            }
            List<GuestSpec> result = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                String n = count == 1 ? name : name + "-" + i;
                String uuid = count == 1 && g.has("uuid")
                        ? g.text("uuid").orElseThrow()
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
        private GuestSpec.Portion portion(
                ConfigSection parent, String name, GuestSpec.Portion fallback, long pageSize) {
            Optional<Object> given = parent.value(name);
            if (given.isEmpty()) {
                return fallback;
            }
            if (given.get() instanceof Number) {
                return GuestSpec.Portion.fraction(parent.decimal(name, 0, 0, 1));
            }
            String expected = "a fraction from 0 to 1, a page count like '1000 pages' or a size like 64MiB";
            String text = given.get() instanceof String t ? t.strip() : "";
            Matcher m = PAGE_COUNT.matcher(text);
            if (m.matches()) {
                try {
                    return GuestSpec.Portion.pages(Long.parseLong(m.group(1)));
                } catch (NumberFormatException e) {
                    throw parent.invalid(name, "'" + text + "' is too many pages");
                }
            }
            long bytes;
            try {
                bytes = ByteSize.parse(text);
            } catch (IllegalArgumentException e) {
                throw parent.wrong(name, given.get(), expected);
            }
            if (bytes % pageSize != 0) {
                throw parent.invalid(name, text + " is not a whole number of " + pageSize + "-byte pages");
            }
            return GuestSpec.Portion.pages(bytes / pageSize);
        }

        private static final Pattern PAGE_COUNT = Pattern.compile("(\\d+)\\s*pages?");

        /**
         * The classes' pages in address order: a count as given, fractions rounded where the running
         * total of the classes so far ends (so fractions that add up to 1 fill the guest exactly).
         */
        private GuestSpec.Layout layout(ConfigSection guest, long memoryPages, long pageSize) {
            List<String> names = List.of("os_image", "page_cache", "anon", "zero", "secret");
            double[] defaults = {0.15, 0.20, 0.25, 0.05, 0.01};
            ConfigSection f = guest.section("layout", names);
            int[] pages = new int[names.size()];
            double total = 0;
            long end = 0;
            for (int i = 0; i < names.size(); i++) {
                GuestSpec.Portion p = portion(f, names.get(i), GuestSpec.Portion.fraction(defaults[i]), pageSize);
                total += p.exact() ? p.pages() : p.fraction() * memoryPages;
                long newEnd = Math.round(total);
                if (newEnd > memoryPages) {
                    throw f.invalid("the classes up to " + names.get(i) + " add up to " + newEnd
                            + " pages, more than the guest's " + memoryPages);
                }
                pages[i] = (int) (newEnd - end);
                end = newEnd;
            }
            return new GuestSpec.Layout(pages[0], pages[1], pages[2], pages[3], pages[4]);
        }

        private GuestSpec.Sharing sharing(ConfigSection guest, GuestSpec.Layout layout, long pageSize) {
            ConfigSection f = guest.section("sharing", List.of("os_image", "page_cache", "secret"));
            return new GuestSpec.Sharing(
                    sharedPages(f, "os_image", DEFAULT_SHARING.osImage(), layout.osImagePages(), pageSize),
                    sharedPages(f, "page_cache", DEFAULT_SHARING.pageCache(), layout.pageCachePages(), pageSize),
                    sharedPages(f, "secret", DEFAULT_SHARING.secret(), layout.secretPages(), pageSize));
        }

        private GuestSpec.Portion sharedPages(
                ConfigSection f, String name, GuestSpec.Portion fallback, int classPages, long pageSize) {
            GuestSpec.Portion p = portion(f, name, fallback, pageSize);
            if (p.exact() && p.pages() > Math.min(classPages, Content.MAX_SHARED_INDEX + 1)) {
                throw f.invalid(
                        name,
                        p.pages() + " pages is more than the " + Math.min(classPages, Content.MAX_SHARED_INDEX + 1)
                                + " of layout." + name
                                + (classPages > Content.MAX_SHARED_INDEX ? " the simulator shares" : ""));
            }
            return p;
        }

        private GuestSpec.FreeMemory freeMemory(ConfigSection guest, long pageSize) {
            if (!guest.has("free_memory")) {
                return DEFAULT_FREE;
            }
            ConfigSection f = guest.section("free_memory", List.of("stale", "stale_secret", "zero"));
            GuestSpec.FreeMemory m = new GuestSpec.FreeMemory(
                    portion(f, "stale", DEFAULT_FREE.stale(), pageSize),
                    portion(f, "stale_secret", DEFAULT_FREE.staleSecret(), pageSize),
                    portion(f, "zero", DEFAULT_FREE.zero(), pageSize));
            if (!m.stale().exact()
                    && !m.zero().exact()
                    && m.stale().fraction() + m.zero().fraction() > 1 + 1e-9) {
                throw f.invalid("stale + zero add up to "
                        + (m.stale().fraction() + m.zero().fraction()) + ", more than 1 (all free memory)");
            }
            return m;
        }

        /** Page counts of free memory need the free pages: the guest's memory less its layout and content groups. */
        private void checkFreeMemory(ConfigSection guest, GuestSpec.FreeMemory m, long freePages) {
            long stale =
                    m.stale().exact() ? m.stale().pages() : Math.round(m.stale().fraction() * freePages);
            long zero =
                    m.zero().exact() ? m.zero().pages() : Math.round(m.zero().fraction() * freePages);
            if (m.exact() && stale + zero > freePages) {
                throw guest.invalid(
                        "free_memory",
                        "stale and zero come to " + (stale + zero) + " pages, more than the " + freePages
                                + " free pages");
            }
            if (m.staleSecret().exact() && m.staleSecret().pages() > stale) {
                throw guest.invalid(
                        "free_memory.stale_secret",
                        m.staleSecret().pages() + " pages is more than the " + stale + " stale pages");
            }
        }

        /** Slots of the content-id space (as images take them) a group of {@code contents} needs. */
        static int groupSlots(int contents) {
            return (contents + Content.MAX_SHARED_INDEX) / (Content.MAX_SHARED_INDEX + 1);
        }

        private List<ContentGroup> contentGroups(
                ConfigSection root, List<GuestSpec> guests, Map<String, List<String>> entries, long seed) {
            List<String> all = guests.stream().map(GuestSpec::name).toList();
            SplittableRandom random = new SplittableRandom(seed ^ 0x636F6E74656E74L);
            List<ContentGroup> groups = new ArrayList<>();
            Set<String> groupNames = new HashSet<>();
            for (ConfigSection c : root.sections(
                    "content_groups",
                    List.of("name", "contents", "pages", "copies", "guests", "secret"),
                    Optional.empty())) {
                String name = required(c, "name");
                if (!groupNames.add(name)) {
                    throw c.invalid("name", "'" + name + "' is used by more than one content group");
                }
                int contents = (int) c.require("contents")
                        .whole("contents", 0, 1, (long) Content.MAX_IMAGES * (Content.MAX_SHARED_INDEX + 1));
                if (c.has("pages") == c.has("copies")) {
                    throw c.invalid(
                            "give pages (spread evenly over the contents) or copies (per content), one of them");
                }
                long[] prefix = new long[contents + 1];
                if (c.has("pages")) {
                    long total = c.whole("pages", 0, contents, Integer.MAX_VALUE);
                    for (int k = 0; k < contents; k++) {
                        prefix[k + 1] = prefix[k] + total / contents + (k < total % contents ? 1 : 0);
                    }
                } else if (c.value("copies").orElseThrow() instanceof Map) {
                    ConfigSection copies = c.section("copies", List.of("zipf", "min", "max"));
                    if (!copies.has("zipf")) {
                        throw copies.invalid("zipf", "required: the exponent s of P(copies = k) ~ 1/k^s");
                    }
                    double exponent = copies.decimal("zipf", 1, 0.01, 100);
                    int min = (int) copies.whole("min", 1, 1, 1_000_000);
                    int max = (int) copies.require("max").whole("max", min, min, 1_000_000);
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
                    long each = c.whole("copies", 1, 1, Integer.MAX_VALUE);
                    for (int k = 0; k < contents; k++) {
                        prefix[k + 1] = prefix[k] + each;
                    }
                }
                if (prefix[contents] > Integer.MAX_VALUE) {
                    throw c.invalid("its " + prefix[contents] + " pages are more than the simulator models");
                }
                List<String> members = new ArrayList<>();
                if (!c.has("guests")) {
                    members.addAll(all);
                } else {
                    for (String guest : c.texts("guests")) {
                        List<String> named = entries.containsKey(guest)
                                ? entries.get(guest)
                                : all.contains(guest) ? List.of(guest) : null;
                        if (named == null) {
                            throw c.invalid("guests", "no guest or guest entry named '" + guest + "'");
                        }
                        for (String m : named) {
                            if (members.contains(m)) {
                                throw c.invalid("guests", "'" + m + "' is named twice");
                            }
                            members.add(m);
                        }
                    }
                }
                groups.add(new ContentGroup(name, members, c.bool("secret", false), prefix));
            }
            return List.copyOf(groups);
        }

        private static final List<String> CHURN_KEYS = List.of("anon", "page_cache", "secret", "os_image");

        private GuestSpec.Churn churn(Optional<ConfigSection> given) {
            if (given.isEmpty()) {
                return GuestSpec.Churn.IDLE;
            }
            ConfigSection f = given.get();
            double max = 1e9;
            return new GuestSpec.Churn(
                    f.decimal("anon", 0, 0, max),
                    f.decimal("page_cache", 0, 0, max),
                    f.decimal("secret", 0, 0, max),
                    f.decimal("os_image", 0, 0, max));
        }

        private static final List<String> HYGIENE_KEYS = List.of("mode", "agent", "scrub", "free_page_reporting");

        private GuestSpec.Hygiene hygiene(Optional<ConfigSection> given) {
            if (given.isEmpty()) {
                return new GuestSpec.Hygiene(HygieneMode.NONE, false, DEFAULT_SCRUB, DEFAULT_FPR);
            }
            ConfigSection f = given.get();
            String modeText = f.text("mode").orElse("none");
            HygieneMode mode = HygieneMode.parse(modeText)
                    .orElseThrow(() -> f.wrong("mode", modeText, "one of " + HygieneMode.labels()));
            boolean agent = f.bool("agent", mode == HygieneMode.AGENT_SCRUB);
            if (mode == HygieneMode.AGENT_SCRUB && !agent) {
                throw f.invalid("agent", "agent_scrub needs the agent (agent: true)");
            }
            GuestSpec.Scrub scrub = DEFAULT_SCRUB;
            if (f.has("scrub")) {
                ConfigSection s = f.section(
                        "scrub",
                        List.of("rate", "min_headroom", "headroom_percent", "interval", "large_free_threshold", "max"));
                scrub = new GuestSpec.Scrub(
                        s.bytesPerSecond("rate", DEFAULT_SCRUB.rateBytesPerSecond(), 1),
                        s.bytes("min_headroom", DEFAULT_SCRUB.minHeadroomBytes(), 0),
                        (int) s.whole("headroom_percent", DEFAULT_SCRUB.headroomPercent(), 0, 90),
                        duration(s, "interval", DEFAULT_SCRUB.interval()),
                        s.bytes("large_free_threshold", DEFAULT_SCRUB.largeFreeThresholdBytes(), 0),
                        s.bytes("max", DEFAULT_SCRUB.maxBytes(), 0));
            }
            GuestSpec.FreePageReporting fpr = DEFAULT_FPR;
            if (f.has("free_page_reporting")) {
                ConfigSection r = f.section("free_page_reporting", List.of("order", "delay"));
                fpr = new GuestSpec.FreePageReporting(
                        (int) r.whole("order", DEFAULT_FPR.order(), 0, 10), duration(r, "delay", DEFAULT_FPR.delay()));
            }
            return new GuestSpec.Hygiene(mode, agent, scrub, fpr);
        }

        private static final List<String> EVENT_KEYS =
                List.of("at", "guest", "guests", "action", "bytes", "hold", "content", "churn");

        private List<EventSpec> events(ConfigSection root, Set<String> guestNames) {
            List<EventSpec> events = new ArrayList<>();
            for (ConfigSection e : root.sections("events", EVENT_KEYS, Optional.empty())) {
                Duration at = e.require("at").duration("at", Duration.ZERO, Duration.ZERO, MAX_DURATION);
                String actionText = required(e, "action");
                EventSpec.Action action;
                try {
                    action = EventSpec.Action.valueOf(actionText.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException ex) {
                    throw e.wrong("action", actionText, "start, stop, allocate, free, churn or scrub");
                }
                Set<String> targets = new LinkedHashSet<>();
                if (e.has("guest") && e.has("guests")) {
                    throw e.invalid("give guest or guests, not both");
                }
                String targetKey = e.has("guest") ? "guest" : "guests";
                if (e.has("guest")) {
                    targets.add(e.text("guest").orElseThrow());
                } else if (e.has("guests")) {
                    targets.addAll(e.texts("guests"));
                } else {
                    targets.addAll(guestNames);
                }
                for (String t : targets) {
                    if (!guestNames.contains(t)) {
                        throw e.invalid(targetKey, "no guest named '" + t + "'");
                    }
                }
                long bytes = 0;
                if (action == EventSpec.Action.ALLOCATE) {
                    bytes = e.require("bytes").bytes("bytes", 0, 0);
                } else if (action == EventSpec.Action.SCRUB) {
                    bytes = e.bytes("bytes", 0, 0);
                }
                Optional<Duration> hold =
                        e.has("hold") ? Optional.of(duration(e, "hold", Duration.ZERO)) : Optional.empty();
                String fillText = e.text("content").orElse("unique");
                EventSpec.Fill fill;
                try {
                    fill = EventSpec.Fill.valueOf(fillText.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException ex) {
                    throw e.wrong("content", fillText, "unique, zero or secret");
                }
                Optional<GuestSpec.Churn> churn = Optional.empty();
                if (action == EventSpec.Action.CHURN) {
                    if (!e.has("churn")) {
                        throw e.invalid("churn", "required for action churn");
                    }
                    churn = Optional.of(churn(e.optionalSection("churn", CHURN_KEYS)));
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
