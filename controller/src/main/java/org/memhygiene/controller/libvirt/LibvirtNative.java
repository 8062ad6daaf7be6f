package org.memhygiene.controller.libvirt;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The few libvirt.so.0 calls that libvirt-java 0.5.4 does not bind. Everything else goes through
 * libvirt-java. Signatures from https://libvirt.org/html/libvirt-libvirt-host.html,
 * https://libvirt.org/html/libvirt-libvirt-domain.html and
 * https://libvirt.org/html/libvirt-virterror.html.
 */
interface LibvirtNative extends Library {
    /** Loaded once per class loader, as libvirt-java loads its own binding. */
    LibvirtNative INSTANCE = Native.load("virt", LibvirtNative.class);

    /** virDomainModificationImpact: change the running domain only. */
    int VIR_DOMAIN_AFFECT_LIVE = 1;

    int virNodeGetMemoryParameters(Pointer conn, Pointer params, IntByReference nparams, int flags);

    int virNodeSetMemoryParameters(Pointer conn, Pointer params, int nparams, int flags);

    void virTypedParamsClear(Pointer params, int nparams);

    int virDomainSetMemoryStatsPeriod(Pointer domain, int periodSeconds, int flags);

    /** This thread's last error message (since libvirt 4.5.0); never NULL. */
    String virGetLastErrorMessage();

    /** This thread's last virErrorNumber (since libvirt 4.5.0), 0 when none. */
    int virGetLastErrorCode();
}
