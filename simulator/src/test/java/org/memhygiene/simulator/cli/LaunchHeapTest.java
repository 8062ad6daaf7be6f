package org.memhygiene.simulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.memhygiene.simulator.HeapEstimate;
import org.memhygiene.simulator.scenario.ScenarioParser;
import org.memhygiene.simulator.sweep.Sweep;

class LaunchHeapTest {
    private static final long MACHINE = 24L << 30;
    private static final String HOST = "../docs/scenarios/host-64x4g.yaml";

    /** The -Xmx of the launcher's options, in MiB, after checking their form. */
    private static long mib(Optional<String> option) {
        String o = option.orElseThrow();
        boolean sweep = o.endsWith(" -XX:PerMethodTrapLimit=0");
        assertTrue(
                o.matches("-Xms\\d+m -Xmx\\d+m -Xmn32m -XX:PretenureSizeThreshold=1m"
                        + (LaunchHeap.hugePagesOnRequest() ? " -XX:\\+UseTransparentHugePages" : "")
                        + (sweep ? " -XX:PerMethodTrapLimit=0" : "")),
                o);
        long xmx = Long.parseLong(o.replaceAll(".* -Xmx(\\d+)m .*", "$1"));
        // A sweep's heap starts at its full size, a run's small.
        assertEquals(sweep ? xmx : 64, Long.parseLong(o.replaceAll("^-Xms(\\d+)m .*", "$1")), o);
        return xmx;
    }

    @Test
    void aSimulatorCommandGetsTheHeapItsScenarioNeeds() {
        HeapEstimate need = HeapEstimate.of(ScenarioParser.load(Path.of(HOST)));
        long run = mib(LaunchHeap.options(new String[] {"sim", "run", "--duration", "1h", HOST}, MACHINE, 2));
        assertTrue(run << 20 >= need.bytes() * 5 / 4, run + " MiB for " + need.describe());
        assertTrue(run < 4096, "64 x 4 GiB of guests in well under 4 GiB of heap: " + run);
        assertEquals(
                run,
                mib(LaunchHeap.options(new String[] {"run", "--config", "x.yaml", "--scenario", HOST}, MACHINE, 2)));
        assertEquals(run, mib(LaunchHeap.options(new String[] {"run", "--scenario=" + HOST}, MACHINE, 2)));
        long sweep = mib(LaunchHeap.options(new String[] {"sim", "sweep", HOST}, MACHINE, 2));
        assertTrue(
                LaunchHeap.options(new String[] {"sim", "sweep", HOST}, MACHINE, 2)
                        .orElseThrow()
                        .endsWith(" -XX:PerMethodTrapLimit=0"),
                "a sweep's short cells are compiled without uncommon traps");
        assertFalse(
                LaunchHeap.options(new String[] {"sim", "run", HOST}, MACHINE, 2)
                        .orElseThrow()
                        .contains("PerMethodTrapLimit"),
                "a long run keeps them");
        assertTrue(sweep > run * 3 / 2, "two cells side by side: " + sweep + " MiB against " + run);
        assertEquals(
                run, mib(LaunchHeap.options(new String[] {"sim", "sweep", HOST}, MACHINE, 1)), "one CPU, one cell");
        assertEquals(
                256,
                mib(LaunchHeap.options(new String[] {"sim", "run", "../docs/scenarios/idle-guests.yaml"}, MACHINE, 2)),
                "a small scenario keeps the launcher's default");
    }

    /**
     * In a JVM started with the launcher's options the sweep runs as many cells side by side as the
     * launcher sized the heap for: the JVM's maxMemory is less than -Xmx (a survivor space), and once
     * that made web-farm's sweep run one cell at a time on two CPUs.
     */
    @Test
    void aSweepInTheLaunchersJvmRunsTheCellsItWasSizedFor() throws Exception {
        for (String scenario : new String[] {"../docs/scenarios/web-farm.yaml", HOST}) {
            // Every option the launcher gets, so that the JVM also prints nothing of its own (a warning on
            // standard output would end up in the command's table).
            String options = LaunchHeap.options(new String[] {"sim", "sweep", scenario}, MACHINE, 2)
                    .orElseThrow();
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC"));
            command.addAll(List.of(options.split(" ")));
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), SweepCells.class.getName(), scenario));
            Process child =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(child.getInputStream().readAllBytes()).strip();
            assertEquals(0, child.waitFor(), out);
            assertEquals("2", out, scenario + " with " + options);
        }
    }

    /** The child JVM of the test above: prints how many cells the sweep would run side by side on 2 CPUs. */
    static final class SweepCells {
        public static void main(String[] args) {
            System.out.println(Sweep.parallelism(
                    ScenarioParser.load(Path.of(args[0])),
                    2,
                    Runtime.getRuntime().maxMemory()));
        }
    }

    @Test
    void otherCommandsAndBadArgumentsGetNothingAndTheCommandSaysWhatIsWrong(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "name: b\nguests: [{name: a, memory: much}]\n");
        for (String[] args : new String[][] {
            {"ksm", "status"},
            {"run"},
            {"sim", "run"},
            {"sim", "run", "--bogus", HOST},
            {"sim", "run", bad.toString()},
            {"sim", "run", dir.resolve("missing.yaml").toString()},
            {"sim"}
        }) {
            assertEquals(Optional.empty(), LaunchHeap.options(args, MACHINE, 2), String.join(" ", args));
        }
    }

    @Test
    void aScenarioBeyondThreeQuartersOfTheMachineIsRefusedWithTheFigures() {
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> LaunchHeap.options(new String[] {"sim", "run", HOST}, 1L << 30, 2));
        assertTrue(
                e.getMessage().contains("host-64x4g.yaml needs about")
                        && e.getMessage().contains("67,108,864 pages")
                        && e.getMessage().contains("more than 3/4 of this machine's 1024 MiB")
                        && e.getMessage().contains("MEMHYGIENE_JAVA_OPTS"),
                e.getMessage());
    }
}
