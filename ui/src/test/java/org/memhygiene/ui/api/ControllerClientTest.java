package org.memhygiene.ui.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.memhygiene.core.host.HostSnapshot;
import org.memhygiene.core.host.VmSnapshot;
import org.memhygiene.simulator.SimulatedHost;
import org.memhygiene.ui.BuiltinController;
import org.memhygiene.ui.model.Reclaimed;
import org.memhygiene.ui.model.SourceBreakdown;
import org.memhygiene.ui.model.VmRow;

/** The client and the live-mode readings against a real controller over the simulator, as --connect sees it. */
class ControllerClientTest {
    private static BuiltinController controller;
    private static ControllerClient client;

    @BeforeAll
    static void start() {
        controller =
                BuiltinController.start(SimulatedHost.builtin(Clock.systemUTC(), 60), Duration.ofMillis(200), true);
        client = new ControllerClient(controller.url(), Optional.empty());
    }

    @AfterAll
    static void stop() {
        client.close();
        controller.close();
    }

    @Test
    void readsTheHostAndVmsAsTheControllerServesThem() throws Exception {
        HostView host = client.snapshot().get(10, TimeUnit.SECONDS);
        List<VmView> vms = ApiDocuments.vms(client.get("/api/v1/vms").get(10, TimeUnit.SECONDS));
        HostSnapshot latest = controller.daemon().loop().latest().orElseThrow();
        assertEquals(latest.pageSizeBytes(), host.pageSizeBytes());
        assertEquals(
                latest.vms().stream().map(v -> v.domain().name()).toList(),
                vms.stream().map(VmView::name).toList());
        assertTrue(host.ksm().orElseThrow().pagesScanned().isPresent());
        assertTrue(vms.stream().allMatch(v -> v.postureScore().isPresent()), "the controller scores every VM");
        VmView db = vms.stream().filter(v -> v.name().equals("db")).findFirst().orElseThrow();
        VmSnapshot real = latest.vms().stream()
                .filter(v -> v.domain().name().equals("db"))
                .findFirst()
                .orElseThrow();
        assertEquals(real.domain().currentMemoryBytes(), db.memoryBytes());
        assertEquals("OK", db.agentStatus());
    }

    @Test
    void liveBreakdownIsEachVmsGuestMemoryWhereTheControllerMeasuredIt() throws Exception {
        HostView host = client.snapshot().get(10, TimeUnit.SECONDS);
        List<VmView> vms = ApiDocuments.vms(client.get("/api/v1/vms").get(10, TimeUnit.SECONDS));
        SourceBreakdown.Result result = SourceBreakdown.FROM_API.of(host, vms);
        long page = host.pageSizeBytes();
        long zero = 0;
        long givenBack = 0;
        for (VmView vm : vms) {
            if (vm.guestMemory().isEmpty()) {
                continue;
            }
            GuestMemoryView g = vm.guestMemory().get();
            assertEquals(
                    "simulator (model)", g.method(), "the simulated host measures every running guest from its model");
            assertEquals(
                    g.zeroPages().getAsLong() * page,
                    result.vms().get(vm.uuid()).zeroPageBytes(),
                    vm.name());
            assertEquals(
                    g.givenBackPages().getAsLong() * page,
                    result.vms().get(vm.uuid()).freePageReportingBytes(),
                    vm.name());
            assertEquals(
                    g.ksmSavedPages().getAsLong() * page,
                    result.vms().get(vm.uuid()).sharingBytes(),
                    vm.name());
            assertEquals(
                    g.zeroPages().getAsLong() * page + g.givenBackPages().getAsLong() * page,
                    g.reclaimedBytes().getAsLong());
            zero += g.zeroPages().getAsLong() * page;
            givenBack += g.givenBackPages().getAsLong() * page;
        }
        assertEquals(zero, result.host().zeroPageBytes(), "the host: the sum over its VMs");
        assertEquals(givenBack, result.host().freePageReportingBytes());
    }

    @Test
    void zeroMappedPagesThatWereNeverBackedAreNotInTheBreakdown() throws Exception {
        HostView host = client.snapshot().get(10, TimeUnit.SECONDS);
        // The simulated host's guests have none: as a real host's pass reports them after a scrub.
        JsonNode document = client.get("/api/v1/vms").get(10, TimeUnit.SECONDS);
        ObjectNode pages = null;
        for (JsonNode vm : document.get("vms")) {
            if (vm.path("guest_memory").path("pages").isObject()) {
                pages = (ObjectNode) vm.get("guest_memory").get("pages");
                break;
            }
        }
        assertTrue(pages != null, "a simulated guest measured from the model");
        pages.put("zero", 100);
        pages.put("zero_never_backed", 10);
        List<VmView> vms = ApiDocuments.vms(document);
        SourceBreakdown.Result result = SourceBreakdown.FROM_API.of(host, vms);
        VmView vm = vms.stream()
                .filter(v -> v.guestMemory()
                        .map(g -> g.zeroNeverBackedPages().orElse(0) == 10)
                        .orElse(false))
                .findFirst()
                .orElseThrow();
        assertEquals(90 * host.pageSizeBytes(), result.vms().get(vm.uuid()).zeroPageBytes(), vm.name());
    }

    @Test
    void withoutGuestMemoryTheLiveBreakdownIsTheKsmCountersTimesThePageSize() throws Exception {
        HostView host = client.snapshot().get(10, TimeUnit.SECONDS);
        // As a controller that does not measure guest RAM serves them: the VM documents without guest_memory.
        JsonNode document = client.get("/api/v1/vms").get(10, TimeUnit.SECONDS);
        document.get("vms").forEach(vm -> ((ObjectNode) vm).putNull("guest_memory"));
        List<VmView> vms = ApiDocuments.vms(document);
        SourceBreakdown.Result result = SourceBreakdown.FROM_API.of(host, vms);
        KsmView ksm = host.ksm().orElseThrow();
        assertEquals(
                ksm.pagesSharing().getAsLong() * host.pageSizeBytes(),
                result.host().sharingBytes());
        assertEquals(
                ksm.zeroPages().getAsLong() * host.pageSizeBytes(),
                result.host().zeroPageBytes());
        VmView cache =
                vms.stream().filter(v -> v.name().equals("cache")).findFirst().orElseThrow();
        assertTrue(cache.freePageReporting(), "the demo's cache guest reports free pages");
        long expected = Math.max(
                0,
                cache.memoryBytes()
                        - cache.rssBytes().getAsLong()
                        - cache.zeroPages().getAsLong() * host.pageSizeBytes());
        assertEquals(expected, result.vms().get(cache.uuid()).freePageReportingBytes());
    }

    @Test
    void eachVmNamesHowItsReclaimedMemoryWasMeasured() throws Exception {
        HostView host = client.snapshot().get(10, TimeUnit.SECONDS);
        JsonNode document = client.get("/api/v1/vms").get(10, TimeUnit.SECONDS);
        List<VmView> measured = ApiDocuments.vms(document);
        SourceBreakdown.Result result = SourceBreakdown.FROM_API.of(host, measured);
        long modelled = 0;
        for (VmView vm : measured) {
            if (vm.guestMemory().isPresent()) { // a guest that has not run yet has none
                assertEquals(
                        "simulator (model)",
                        new VmRow(vm, result.vms().get(vm.uuid())).reclaimedMeasuredBy(),
                        vm.name());
                modelled++;
            }
        }
        assertTrue(modelled > 0, "the simulated host measures its running guests from its model");
        // As a controller that does not measure guest RAM serves them: KSM's accounting, and for a VM that
        // reports free pages, what it gave back is the balloon's estimate.
        document.get("vms").forEach(vm -> ((ObjectNode) vm).putNull("guest_memory"));
        Map<String, String> byVm = new TreeMap<>();
        Map<String, String> expected = new TreeMap<>();
        for (VmView vm : ApiDocuments.vms(document)) {
            byVm.put(vm.name(), new VmRow(vm, Reclaimed.NONE).reclaimedMeasuredBy());
            expected.put(
                    vm.name(),
                    vm.freePageReporting() ? "KSM-accounted (ksm_stat), balloon estimate" : "KSM-accounted (ksm_stat)");
        }
        assertEquals(expected, byVm);
        assertTrue(byVm.containsValue("KSM-accounted (ksm_stat), balloon estimate"), "the demo's cache guest: " + byVm);
        assertTrue(byVm.containsValue("KSM-accounted (ksm_stat)"), byVm.toString());
    }

    @Test
    void aRefusalCarriesTheControllersStatusAndMessage() {
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> client.putSettings(Map.of("run", 7)).get(10, TimeUnit.SECONDS));
        ApiException api = assertInstanceOf(ApiException.class, e.getCause());
        assertEquals(400, api.status());
        assertTrue(api.getMessage().contains("run"), api.getMessage());
    }

    @Test
    void anUnreachableControllerIsStatusZeroNamingTheUrl() throws Exception {
        try (ControllerClient nowhere = new ControllerClient(URI.create("http://127.0.0.1:1"), Optional.empty())) {
            ExecutionException e = assertThrows(
                    ExecutionException.class, () -> nowhere.snapshot().get(10, TimeUnit.SECONDS));
            ApiException api = assertInstanceOf(ApiException.class, e.getCause());
            assertEquals(0, api.status());
            assertTrue(
                    api.getMessage().startsWith("cannot reach the controller at http://127.0.0.1:1"), api.getMessage());
        }
    }

    @Test
    void aCallAfterCloseFailsItsFutureRatherThanThrowingAtTheCaller() {
        // A history load the FX thread queued just before the dashboard closed runs after close(): thrown
        // there, it was an uncaught exception on the FX thread (a CI run failed on one); it fails its future.
        ControllerClient closed = new ControllerClient(controller.url(), Optional.empty());
        closed.close();
        CompletableFuture<HostView> answer = closed.snapshot();
        ExecutionException e = assertThrows(ExecutionException.class, () -> answer.get(10, TimeUnit.SECONDS));
        ApiException api = assertInstanceOf(ApiException.class, e.getCause());
        assertEquals(0, api.status());
        assertTrue(api.getMessage().endsWith("the dashboard closed its connection before sending"), api.getMessage());
    }

    @Test
    void refusesAUrlThatIsNotHttp() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new ControllerClient(URI.create("ftp://host"), Optional.empty()));
        assertTrue(
                e.getMessage().startsWith("--connect ftp://host: expected an http:// or https:// URL"), e.getMessage());
    }
}
