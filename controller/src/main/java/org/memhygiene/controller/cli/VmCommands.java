package org.memhygiene.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.memhygiene.controller.host.SnapshotJson;
import org.memhygiene.controller.posture.HostPosture;
import org.memhygiene.controller.posture.PostureScorer;
import org.memhygiene.controller.posture.VmPosture;
import org.memhygiene.core.agent.AgentEvent;
import org.memhygiene.core.agent.AgentHello;
import org.memhygiene.core.agent.AgentSample;
import org.memhygiene.core.agent.ScrubReport;
import org.memhygiene.core.cli.DurationConverter;
import org.memhygiene.core.cli.SizeConverter;
import org.memhygiene.core.host.DomainXml;
import org.memhygiene.core.host.GuestMemory;
import org.memhygiene.core.host.HostBackend;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.NoSuchVmException;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.core.json.Json;
import org.memhygiene.core.posture.Finding;
import org.memhygiene.core.units.ByteSize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code memhygiene vms}, {@code vm show|scrub NAME} and {@code agent ping NAME}: the VMs libvirt knows and their agents. */
final class VmCommands {
    private VmCommands() {}

    @Command(
            name = "vms",
            mixinStandardHelpOptions = true,
            description = "One row per VM: state, memory, the guest RAM reclaimed from it (zero-mapped and given back,"
                    + " measured page by page, with how), what ksm_stat accounts to it, its agent, balloon and free page"
                    + " reporting, whether its memory may be shared.")
    static final class Vms implements Callable<Integer> {
        @Mixin
        LibvirtOptions libvirt;

        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON (stable keys, documented in docs/CLI.md).")
        boolean json;

        @Option(
                names = "--enable-balloon-stats",
                paramLabel = "SECONDS",
                arity = "0..1",
                fallbackValue = "5",
                description = "Opt-in: where a running VM's virtio balloon reports no statistics (period 0, QEMU's"
                        + " default), make it report every SECONDS (default 5) until the VM stops. Without it the"
                        + " UNUSED column stays empty for such VMs.")
        Integer balloonStatsPeriodSeconds;

        @Override
        public Integer call() throws JsonProcessingException {
            try (HostBackend host = libvirt.open()) {
                if (balloonStatsPeriodSeconds != null) {
                    if (balloonStatsPeriodSeconds <= 0) {
                        throw new CommandLine.ParameterException(
                                spec.commandLine(),
                                "--enable-balloon-stats must be a" + " positive number of seconds, was "
                                        + balloonStatsPeriodSeconds);
                    }
                    for (String vm : host.enableBalloonStats(Duration.ofSeconds(balloonStatsPeriodSeconds))) {
                        spec.commandLine()
                                .getErr()
                                .println("memhygiene: " + vm + ": balloon statistics every " + balloonStatsPeriodSeconds
                                        + " s");
                    }
                }
                HostSnapshot sample = LibvirtOptions.sample(host);
                HostPosture posture = PostureScorer.of(host).score(sample);
                PrintWriter out = spec.commandLine().getOut();
                out.print(
                        json
                                ? Json.mapper().writeValueAsString(SnapshotJson.vms(sample, posture)) + "\n"
                                : table(sample, posture));
                out.flush();
            }
            return 0;
        }

        static String table(HostSnapshot sample, HostPosture posture) {
            long page = sample.pageSizeBytes();
            TextTable table = new TextTable(
                    "NAME",
                    "STATE",
                    "VCPUS>",
                    "MEMORY>",
                    "RECLAIMED>",
                    "ZERO>",
                    "GIVEN BACK>",
                    "KSM SAVED>",
                    "HOW",
                    "KSM_STAT SAVED>",
                    "KSM_STAT ZERO>",
                    "UNUSED>",
                    "AGENT",
                    "BALLOON",
                    "SHARING",
                    "POSTURE",
                    "SCORE>");
            // One footnote per way of measuring, so that every RECLAIMED figure says how it was measured.
            List<String> methods = new ArrayList<>();
            Map<String, List<String>> byMethod = new LinkedHashMap<>();
            for (int i = 0; i < sample.vms().size(); i++) {
                VmSnapshot vm = sample.vms().get(i);
                Optional<GuestMemory> measured = vm.guestMemory();
                String how = measured.map(m -> {
                            String description = m.methodDescription();
                            if (!methods.contains(description)) {
                                methods.add(description);
                            }
                            byMethod.computeIfAbsent(description, d -> new ArrayList<>())
                                    .add(vm.domain().name());
                            return "[" + (methods.indexOf(description) + 1) + "] "
                                    + age(m.ageMillis(sample.sampledAt()));
                        })
                        .orElse("-");
                table.row(
                        vm.domain().name(),
                        vm.domain().state().label(),
                        vm.domain().vcpus(),
                        ByteSize.format(vm.domain().currentMemoryBytes()) + " / "
                                + ByteSize.format(vm.domain().maxMemoryBytes()),
                        bytes(vm.reclaimedBytes()),
                        pageBytes(measured, GuestMemory.Pages::zeroReclaimed),
                        pageBytes(measured, GuestMemory.Pages::givenBack),
                        pageBytes(measured, GuestMemory.Pages::ksmSaved),
                        how,
                        bytes(vm.ksmSavedBytes(page)),
                        bytes(vm.zeroPageBytes(page)),
                        bytes(vm.domain().balloonStats().unusedBytes()),
                        agent(vm.agent()),
                        balloon(vm.config()),
                        vm.sharingAllowed()
                                .map(allowed -> allowed ? "allowed" : "off")
                                .orElse("?"),
                        vm.config()
                                .flatMap(DomainXml::posture)
                                .map(p -> p.name().toLowerCase(Locale.ROOT))
                                .orElse("-"),
                        posture.vms().get(i).score());
            }
            StringBuilder notes = new StringBuilder(
                    "\nRECLAIMED = ZERO (mapped to the zero page after it held data) + GIVEN BACK: guest RAM that"
                            + " left its QEMU process's RSS (docs/RECLAIM.md); HOW: how it was measured, and how long before the sample."
                            + "\nKSM_STAT: what /proc/PID/ksm_stat accounts to the QEMU process (merged + zero pages; not the zero pages"
                            + " of split THPs).\n");
            for (int i = 0; i < methods.size(); i++) {
                notes.append("[")
                        .append(i + 1)
                        .append("] ")
                        .append(methods.get(i))
                        .append(": ")
                        .append(String.join(", ", byMethod.get(methods.get(i))))
                        .append('\n');
            }
            return "libvirt " + sample.uri() + ", " + sample.vms().size() + " domains, sampled in "
                    + sample.took().toMillis() + " ms; host posture score " + posture.hostScore()
                    + " (memhygiene posture)\n\n" + table + notes;
        }
    }

    /** The options of a command about one VM: which libvirt, and which domain. */
    static final class OneVm {
        @Mixin
        LibvirtOptions libvirt;

        @Parameters(paramLabel = "NAME", description = "The domain's name or UUID.")
        String name;
    }

    @Command(
            name = "vm",
            mixinStandardHelpOptions = true,
            description = "One VM: its details, or a scrub of its free memory.",
            subcommands = {Show.class, Scrub.class})
    static final class Vm {}

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Everything known about one VM: libvirt's figures, its memory configuration, KSM for its"
                    + " QEMU process, and what its agent reports (posture findings, scrub counters, recent events).")
    static final class Show implements Callable<Integer> {
        @Mixin
        OneVm target;

        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON (stable keys, documented in docs/CLI.md).")
        boolean json;

        @Override
        public Integer call() throws JsonProcessingException {
            try (HostBackend host = target.libvirt.open()) {
                // Every VM is sampled: the VM's posture depends on whether KSM merges across the others.
                HostSnapshot sample = LibvirtOptions.sample(host);
                VmSnapshot vm = sample.vms().stream()
                        .filter(v -> v.domain().name().equals(target.name)
                                || v.domain().uuid().equalsIgnoreCase(target.name))
                        .findFirst()
                        .orElseThrow(() -> noSuchVm(
                                spec,
                                new NoSuchVmException(
                                        target.name,
                                        sample.uri(),
                                        sample.vms().stream()
                                                .map(v -> v.domain().name())
                                                .toList())));
                VmPosture posture = PostureScorer.of(host)
                        .score(sample)
                        .vm(vm.domain().uuid())
                        .orElseThrow();
                PrintWriter out = spec.commandLine().getOut();
                out.print(
                        json
                                ? Json.mapper().writeValueAsString(SnapshotJson.vm(vm, sample.pageSizeBytes(), posture))
                                        + "\n"
                                : details(vm, sample.pageSizeBytes(), posture, sample.sampledAt()));
                out.flush();
            }
            return 0;
        }

        /** The VM's guest RAM page by page: how and when measured, reclaimed, and every state (docs/RECLAIM.md). */
        private static void guestMemory(TextTable facts, VmSnapshot vm, Instant sampledAt) {
            Optional<GuestMemory> found = vm.guestMemory();
            if (found.isEmpty()) {
                facts.row(
                        "guest memory",
                        vm.domain().state().hasQemuProcess()
                                ? "not measured (no QEMU process found here)"
                                : "not measured (not running)");
                return;
            }
            GuestMemory m = found.get();
            facts.row("guest memory: method", m.methodDescription());
            facts.row(
                    "guest memory: measured",
                    m.measuredAt() + " (" + age(m.ageMillis(sampledAt)) + " before the sample; the pass" + " took "
                            + m.workMillis() + " ms from " + m.passStartedAt() + ")");
            facts.row(
                    "reclaimed (zero once backed + given back)",
                    bytes(m.reclaimedBytes()) + " of " + ByteSize.format(m.guestRamPages() * m.pageSizeBytes())
                            + " guest RAM");
            GuestMemory.Pages p = m.pages();
            facts.row(
                    "  resident (of it THP / HugeTLB)",
                    pages(m, p.resident()) + " (" + pages(m, p.thp()) + " / " + pages(m, p.hugetlb()) + ")");
            facts.row("  KSM-shared (saves)", pages(m, p.ksm()) + " (" + pages(m, p.ksmSaved()) + ")");
            facts.row(
                    "  zero page (of it never backed) / huge zero page",
                    pages(m, p.zero()) + " (" + pages(m, p.zeroNeverBacked()) + ") / " + pages(m, p.hugeZero()));
            facts.row("  swapped", pages(m, p.swapped()));
            facts.row(
                    "  not present (of it given back)",
                    pages(m, p.notPresent()) + " (" + pages(m, p.givenBack()) + ")");
            facts.row("  QEMU VmRSS", pages(m, m.processRssPages()));
        }

        static String details(VmSnapshot vm, long page, VmPosture posture, Instant sampledAt) {
            StringBuilder text = new StringBuilder();
            TextTable facts = new TextTable("VM " + vm.domain().name(), "");
            facts.row("uuid", vm.domain().uuid());
            facts.row("state", vm.domain().state().label());
            facts.row("vcpus", vm.domain().vcpus());
            facts.row(
                    "memory",
                    ByteSize.format(vm.domain().currentMemoryBytes()) + " of "
                            + ByteSize.format(vm.domain().maxMemoryBytes()));
            var stats = vm.domain().balloonStats();
            facts.row(
                    "balloon: actual / unused / usable",
                    bytes(stats.actualBytes()) + " / " + bytes(stats.unusedBytes()) + " / "
                            + bytes(stats.usableBytes()));
            facts.row(
                    "balloon: available / disk caches / rss",
                    bytes(stats.availableBytes()) + " / " + bytes(stats.diskCachesBytes()) + " / "
                            + bytes(stats.rssBytes()));
            facts.row(
                    "memory backing",
                    vm.config()
                            .map(c -> "nosharepages=" + c.memoryBacking().noSharePages() + " locked="
                                    + c.memoryBacking().locked() + " hugepages="
                                    + c.memoryBacking().hugepages())
                            .orElse("?"));
            facts.row("balloon device", balloon(vm.config()));
            facts.row(
                    "agent channel",
                    vm.config()
                            .flatMap(DomainXml::agentChannel)
                            .map(c -> c.socketPath().map(Path::toString).orElse("(path chosen by libvirt at start)"))
                            .orElse("none"));
            facts.row(
                    "qemu-guest-agent channel",
                    vm.config().map(c -> c.guestAgentChannel() ? "yes" : "no").orElse("?"));
            facts.row(
                    "posture metadata",
                    vm.config().flatMap(DomainXml::posture).map(Enum::name).orElse("none"));
            facts.row(
                    "posture score",
                    posture.score() + " / 100 (memhygiene posture --vm "
                            + vm.domain().name() + ")");
            facts.row(
                    "qemu pid",
                    vm.ksm()
                            .map(k -> String.valueOf(k.pid()))
                            .or(() -> vm.guestMemory().map(m -> String.valueOf(m.pid())))
                            .orElse("-"));
            guestMemory(facts, vm, sampledAt);
            facts.row(
                    "ksm_stat: merging / zero pages",
                    vm.ksm()
                            .map(k -> k.stat().mergingPages().orElse(0) + " / "
                                    + k.stat().zeroPages().orElse(0))
                            .orElse("-"));
            facts.row(
                    "ksm_stat: saved / profit",
                    bytes(vm.ksmSavedBytes(page)) + " / "
                            + vm.ksm()
                                    .map(k -> bytes(k.stat().processProfitBytes()))
                                    .orElse("-"));
            facts.row(
                    "zero pages of unused",
                    vm.zeroPagesPercentOfUnused(page).stream()
                            .mapToObj(p -> p + " %")
                            .findFirst()
                            .orElse("-"));
            AgentSample agent = vm.agent();
            facts.row("agent", agent(agent) + (agent.problem().isEmpty() ? "" : ": " + agent.problem()));
            agent.hello()
                    .ifPresent(h ->
                            facts.row("agent version", h.agentVersion() + " (protocol " + h.protocolVersion() + ")"));
            agent.stats().ifPresent(s -> {
                facts.row(
                        "guest MemAvailable / MemTotal",
                        ByteSize.format(s.memAvailableBytes()) + " / " + ByteSize.format(s.memTotalBytes()));
                facts.row(
                        "guest scrubs",
                        s.scrub().scrubsRun() + ", " + ByteSize.format(s.scrub().totalBytesZeroed()) + " zeroed");
            });
            text.append(facts).append('\n');
            if (!agent.posture().isEmpty()) {
                TextTable findings = new TextTable("SEVERITY", "GUEST FINDING", "EVIDENCE");
                for (Finding f : agent.posture()) {
                    findings.row(f.severity(), f.id(), f.evidence());
                }
                text.append(findings).append('\n');
            }
            if (!agent.events().isEmpty()) {
                TextTable events = new TextTable("TIME", "AGENT EVENT", "DETAIL");
                for (AgentEvent e : agent.events()) {
                    events.row(e.at(), e.status(), e.detail());
                }
                text.append(events).append('\n');
            }
            return text.toString();
        }
    }

    @Command(
            name = "scrub",
            mixinStandardHelpOptions = true,
            description = "Ask the VM's agent to zero the guest's free memory once (within the agent's safety limits)"
                    + " and print its report.")
    static final class Scrub implements Callable<Integer> {
        @Mixin
        OneVm target;

        @Spec
        CommandSpec spec;

        @Option(
                names = "--max-bytes",
                paramLabel = "SIZE",
                converter = SizeConverter.class,
                description = "Zero at most SIZE (e.g. 512M, 2G; default: as much as the guest can spare).")
        long maxBytes = Long.MAX_VALUE;

        @Option(
                names = "--timeout",
                paramLabel = "DURATION",
                converter = DurationConverter.class,
                description = "How long to wait for the scrub's report (default: ${DEFAULT-VALUE}).")
        Duration timeout = Duration.ofMinutes(10);

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (HostBackend host = target.libvirt.open()) {
                ScrubReport report;
                try {
                    report = host.scrub(target.name, maxBytes, timeout);
                } catch (NoSuchVmException e) {
                    throw noSuchVm(spec, e);
                }
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(Json.mapper().writeValueAsString(report));
                } else {
                    out.printf(
                            Locale.ROOT,
                            "%s: %s, %s zeroed of %s targeted in %d ms%s%n",
                            target.name,
                            report.outcome().name().toLowerCase(Locale.ROOT),
                            ByteSize.format(report.bytesZeroed()),
                            ByteSize.format(report.targetBytes()),
                            report.durationMillis(),
                            report.reason().isEmpty() ? "" : " (" + report.reason() + ")");
                }
                out.flush();
                return report.outcome() == ScrubReport.Outcome.FAILED ? 1 : 0;
            }
        }
    }

    @Command(
            name = "agent",
            mixinStandardHelpOptions = true,
            description = "Talk to a VM's guest agent.",
            subcommands = {Ping.class})
    static final class Agent {}

    @Command(
            name = "ping",
            mixinStandardHelpOptions = true,
            description = "Connect to the VM's agent and handshake: is it there, which version, how fast.")
    static final class Ping implements Callable<Integer> {
        @Mixin
        OneVm target;

        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print the hello reply as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (HostBackend host = target.libvirt.open()) {
                long start = System.nanoTime();
                AgentHello hello;
                try {
                    hello = host.ping(target.name);
                } catch (NoSuchVmException e) {
                    throw noSuchVm(spec, e);
                }
                double millis = (System.nanoTime() - start) / 1e6;
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    ObjectNode node = Json.mapper().valueToTree(hello);
                    node.put("round_trip_millis", millis);
                    out.println(Json.mapper().writeValueAsString(node));
                } else {
                    out.printf(
                            Locale.ROOT,
                            "%s: agent %s, protocol %d, page size %s, %s; connect + hello %.1f ms%n",
                            target.name,
                            hello.agentVersion(),
                            hello.protocolVersion(),
                            ByteSize.format(hello.pageSizeBytes()),
                            String.join(" ", hello.capabilities()),
                            millis);
                }
                out.flush();
            }
            return 0;
        }
    }

    /** A VM that is not there is a usage error (exit 2) listing the VMs there are. */
    private static CommandLine.ParameterException noSuchVm(CommandSpec spec, NoSuchVmException e) {
        return new CommandLine.ParameterException(
                spec.commandLine(),
                "no domain named '" + e.vm() + "' on " + e.host() + "; domains: " + String.join(", ", e.known()));
    }

    /** "12 s", "3 min": how old a figure is. */
    private static String age(long millis) {
        long seconds = millis / 1000;
        return seconds < 120 ? seconds + " s" : seconds < 7200 ? seconds / 60 + " min" : seconds / 3600 + " h";
    }

    /** A page count of a measurement as bytes; "-" when the method does not measure it. */
    private static String pages(GuestMemory m, OptionalLong count) {
        return bytes(m.inBytes(count));
    }

    private static String pageBytes(Optional<GuestMemory> m, Function<GuestMemory.Pages, OptionalLong> state) {
        return bytes(m.map(measured -> measured.bytes(state)).orElse(OptionalLong.empty()));
    }

    private static String bytes(OptionalLong value) {
        return value.isPresent() ? ByteSize.format(value.getAsLong()) : "-";
    }

    private static String agent(AgentSample agent) {
        return agent.status().name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }

    private static String balloon(Optional<DomainXml> config) {
        return config.map(c -> c.balloon()
                        .map(b -> b.model() + (b.freePageReporting() ? "+fpr" : ""))
                        .orElse("none"))
                .orElse("?");
    }
}
