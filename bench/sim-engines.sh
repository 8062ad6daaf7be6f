#!/usr/bin/env bash
# The simulator's two scan engines in one run (docs/PERFORMANCE.md, "Simulator: scan engines"):
#  1. a simulated day of 64 guests x 4 GiB at a full scan about every 200 s (bench/sim-host-64x4g-day.yaml)
#     with the skipping engine, then with the page-by-page engine, in one JVM on one thread; the KSM
#     counters compared every simulated hour;
#  2. `sim sweep docs/scenarios/web-farm.yaml` through bin/memhygiene as a user runs it, with each
#     engine (--engine), wall time of the whole command.
#   usage: bench/sim-engines.sh [SCENARIO.yaml]     (default bench/sim-host-64x4g-day.yaml)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./mvnw -B -q -DskipTests -pl bench,controller -am package
java=${JAVA:-java}
echo "== engines ($(nproc) CPUs, $("$java" -version 2>&1 | head -1))"
# Huge pages for the heap where the kernel gives them on request, and a 32 MiB young generation, as
# bin/memhygiene gives simulator commands (LaunchHeap): a larger one is memory the JVM touches for the
# first time during the day, which costs page faults here (docs/PERFORMANCE.md, "Seventh session").
thp=$(grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null && echo -XX:+UseTransparentHugePages || true)
# shellcheck disable=SC2086
"$java" -Xmx4g -Xmn32m -XX:+UseSerialGC $thp -cp bench/target/benchmarks.jar org.memhygiene.bench.sim.SimulatorThroughput engines \
  "${1:-bench/sim-host-64x4g-day.yaml}"
for engine in skip-settled page-by-page; do
  echo "== bin/memhygiene sim sweep docs/scenarios/web-farm.yaml --engine $engine"
  start=$(date +%s.%N)
  bin/memhygiene sim sweep docs/scenarios/web-farm.yaml --engine "$engine" >"/tmp/sim-sweep-$engine.txt"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "wall %.1f s\n", e - s }'
done
if cmp -s /tmp/sim-sweep-skip-settled.txt /tmp/sim-sweep-page-by-page.txt; then
  echo "sweep tables identical"
else
  echo "sweep tables DIFFER"; diff /tmp/sim-sweep-skip-settled.txt /tmp/sim-sweep-page-by-page.txt; exit 1
fi
