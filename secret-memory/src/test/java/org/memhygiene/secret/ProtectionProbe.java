package org.memhygiene.secret;

/**
 * Run in a child JVM under limits the test sets (capabilities, RLIMIT_MEMLOCK): one line per backing asked
 * for, "BACKING_ASKED -> summary" or "BACKING_ASKED -> failed: message".
 */
public final class ProtectionProbe {
    private ProtectionProbe() {}

    public static void main(String[] args) {
        for (SecretMemory.Backing asked : SecretMemory.Backing.values()) {
            try (SecretMemory secret = new SecretMemory(32, asked)) {
                System.out.println(asked + " -> " + secret.protection().summary());
            } catch (IllegalStateException e) {
                System.out.println(asked + " -> failed: " + e.getMessage());
            }
        }
    }
}
