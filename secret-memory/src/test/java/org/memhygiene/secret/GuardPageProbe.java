package org.memhygiene.secret;

/** Run in a child JVM: reads inside a secret, then one byte past its end, which must fault. */
public final class GuardPageProbe {
    private GuardPageProbe() {}

    public static void main(String[] args) {
        SecretMemory secret = new SecretMemory(1, SecretMemory.Backing.LOCKED_ANONYMOUS);
        secret.write(0, new byte[] {7});
        byte[] inside = new byte[1];
        secret.read(0, inside);
        System.out.println("read inside: " + inside[0]);
        System.out.flush();
        byte past = secret.dataAddress().getByte(secret.dataBytes());
        System.out.println("read past the end: " + past);
    }
}
