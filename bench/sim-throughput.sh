#!/usr/bin/env bash
# The simulator against the real ksmd of this machine, in one run (docs/PERFORMANCE.md, "Simulator"):
# the real ksmd's pages per CPU second on a 1 GiB mergeable host (root; holds the KSM lock only for
# that part), then one simulated hour of 64 guests x 4 GiB at the default scan rate with the
# page-by-page engine (the heap it holds after a full GC, per simulated page), and that engine's page
# visits per second. The skipping engine: bench/sim-engines.sh.
#   usage: bench/sim-throughput.sh [KSMD_SECONDS]     (default 10)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-10}
cd "$root"
./mvnw -B -q -DskipTests -pl bench -am package
jar=bench/target/benchmarks.jar
java=${JAVA:-java}
echo "== real ksmd ($(uname -r), $(nproc) CPUs)"
ksmd_out=$(flock /tmp/memhygiene-ksm.lock "$java" -Xmx256m -cp "$jar" org.memhygiene.bench.sim.SimulatorThroughput ksmd \
  bench/sim-ksmd-host.yaml "$seconds")
echo "$ksmd_out"
ksmd=$(awk '/^ksmd_pages_per_cpu_second/ {print $2}' <<<"$ksmd_out")
echo "== simulator ($("$java" -version 2>&1 | head -1))"
# 64 x 4 GiB = 67,108,864 pages; the budget, 16 bytes per page, is checked on the heap after GC.
"$java" -Xmx2g -XX:+UseSerialGC -cp "$jar" org.memhygiene.bench.sim.SimulatorThroughput sim docs/scenarios/host-64x4g.yaml "$ksmd"
