package org.memhygiene.controller.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.libvirt.Domain;
import org.libvirt.jna.virTypedParameter;

/**
 * The hand-made virTypedParameter layout, checked against real libvirt: the test driver has no node
 * memory parameters, but its domain scheduler parameters ({@code weight}, unsigned int) go through the
 * same struct in both directions.
 */
class TypedParamsTest {
    private interface SchedulerCalls extends Library {
        SchedulerCalls INSTANCE = Native.load("virt", SchedulerCalls.class);

        int virDomainGetSchedulerParameters(Pointer domain, Pointer params, IntByReference nparams);

        int virDomainSetSchedulerParameters(Pointer domain, Pointer params, int nparams);
    }

    @Test
    void sizeMatchesLibvirtJavasOwnStructure() {
        assertEquals(new virTypedParameter().size(), TypedParams.SIZE_BYTES);
    }

    @Test
    void decodesWhatLibvirtWrites() throws Exception {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            Domain test = host.connection().domainLookupByName("test");
            Memory params = TypedParams.allocate(4);
            IntByReference count = new IntByReference(4);
            assertEquals(
                    0,
                    SchedulerCalls.INSTANCE.virDomainGetSchedulerParameters(host.domainPointer(test), params, count));
            assertEquals(Map.of("weight", 50L), TypedParams.integers(params, count.getValue()));
        }
    }

    @Test
    void encodesWhatLibvirtAccepts() throws Exception {
        try (LibvirtHost host = TestHosts.open(TestHosts.DEFAULT)) {
            Pointer test = host.domainPointer(host.connection().domainLookupByName("test"));
            // libvirt checks each name and type (virTypedParamsValidate): a wrong offset or type is refused.
            assertEquals(
                    0,
                    SchedulerCalls.INSTANCE.virDomainSetSchedulerParameters(
                            test, TypedParams.unsignedInts(Map.of("weight", 50L)), 1));
            assertEquals(
                    -1,
                    SchedulerCalls.INSTANCE.virDomainSetSchedulerParameters(
                            test, TypedParams.unsignedInts(Map.of("cap", 50L)), 1));
            LibvirtAccessException refused = host.lastNativeError("set scheduler parameters");
            assertTrue(refused.libvirtMessage().contains("'cap'"), refused.getMessage());
        }
    }
}
