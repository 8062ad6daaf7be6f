package org.memhygiene.secret;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether this kernel offers memfd_secret, judged without SecretMemory: the answer its tests hold it to.
 * mm/secretmem.c has had the parameter secretmem.enable since memfd_secret came (5.14), off by default
 * until 6.5: /sys/module/secretmem/parameters/enable exists exactly when the kernel is built with
 * CONFIG_SECRETMEM, and says whether it was booted with the call on.
 */
final class KernelSecretmem {
    static final Path ENABLE = Path.of("/sys/module/secretmem/parameters/enable");

    private KernelSecretmem() {}

    static boolean offered() throws IOException {
        return Files.exists(ENABLE) && Files.readString(ENABLE).strip().equals("Y");
    }

    static String evidence() throws IOException {
        return Files.exists(ENABLE)
                ? ENABLE + " = " + Files.readString(ENABLE).strip()
                : ENABLE + " absent (kernel "
                        + Files.readString(Path.of("/proc/sys/kernel/osrelease"))
                                .strip() + ")";
    }
}
