package org.memhygiene.bench.agent;

/** The reference of {@link AgentFootprint}: a JVM that loads nothing of ours and sleeps. */
public final class IdleJvm {
    private IdleJvm() {}

    public static void main(String[] args) throws InterruptedException {
        Thread.sleep(60_000);
    }
}
