package org.memhygiene.controller.libvirt;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * The libvirt calls of an inventory sample, bound by JNA direct mapping ({@code Native.register}):
 * the daemon makes them for every domain every second, and through libvirt-java's interface mapping
 * their reflection and per-call objects cost several times libvirt's own work (docs/PERFORMANCE.md,
 * "Controller: the daemon"). Signatures from https://libvirt.org/html/libvirt-libvirt-domain.html.
 */
final class LibvirtSampleCalls {
    static {
        Native.register(NativeLibrary.getInstance("virt"));
    }

    private LibvirtSampleCalls() {}

    /** Every domain; the caller frees each with virDomainFree and the array with free(). */
    static native int virConnectListAllDomains(Pointer conn, PointerByReference domains, int flags);

    /** Fills a virDomainInfo: unsigned char state; unsigned long maxMem, memory (KiB); unsigned short nrVirtCpu; ... */
    static native int virDomainGetInfo(Pointer domain, Pointer info);

    /** The domain's name, owned by the domain object. */
    static native Pointer virDomainGetName(Pointer domain);

    /** The UUID as text into a buffer of VIR_UUID_STRING_BUFLEN (37) bytes. */
    static native int virDomainGetUUIDString(Pointer domain, byte[] buffer);

    /** Up to {@code count} virDomainMemoryStatStruct {int tag; unsigned long long val;}; returns how many. */
    static native int virDomainMemoryStats(Pointer domain, Pointer stats, int count, int flags);

    static native int virDomainFree(Pointer domain);
}
