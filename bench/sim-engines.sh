#!/usr/bin/env bash
# The simulator's two scan engines in one run (docs/PERFORMANCE.md, "Simulator: scan engines"):
#  1. a simulated day of 64 guests x 4 GiB at a full scan about every 200 s (bench/sim-host-64x4g-day.yaml)
#     with the skipping engine, then with the page-by-page engine, in one JVM on one thread; the KSM
#     counters compared every simulated hour;
#  2. `sim sweep docs/scenarios/web-farm.yaml` through bin/memhygiene as a user runs it, with each
#     engine (--engine), wall time of the whole command.
#  3. the skipping engine's day and sweep again, RUNS in all (default 3), each in a JVM of its own, and
#     their median: this machine's speed moves by 20 % and more from one run to the next
#     (docs/PERFORMANCE.md, "Fourteenth session"), so one run is not the figure.
#  Each CPU's speed (bench/cpu-speeds.sh) before part 1, between parts 1 and 2, and at the end.
#   usage: [RUNS=N] bench/sim-engines.sh [SCENARIO.yaml]     (default bench/sim-host-64x4g-day.yaml)
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
runs=${RUNS:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS=$runs: expected a whole number of runs, 1 or more" >&2; exit 2; }
scenario=${1:-bench/sim-host-64x4g-day.yaml}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bench/cpu-speeds.sh "before the engines' day"
# shellcheck disable=SC2086
"$java" -Xmx4g -Xmn32m -XX:+UseSerialGC $thp -cp bench/target/benchmarks.jar org.memhygiene.bench.sim.SimulatorThroughput engines \
  "$scenario" | tee "$out/engines.txt"
day_seconds() {  # day_seconds FILE: the skipping engine's wall seconds in a day's output, or a clear stop
  grep -oP '^skip-settled: .* in \K[0-9.]+(?= s wall)' "$1" ||
    { echo "sim-engines: no 'skip-settled: ... in N s wall' line in the day's output ($1)" >&2; exit 1; }
}
day_seconds "$out/engines.txt" > "$out/days.txt"
for ((run = 2; run <= runs; run++)); do
  echo "== skip-settled day, run $run of $runs (a JVM of its own)"
  # shellcheck disable=SC2086
  "$java" -Xmx4g -Xmn32m -XX:+UseSerialGC $thp -cp bench/target/benchmarks.jar org.memhygiene.bench.sim.SimulatorThroughput day \
    "$scenario" | grep -v '^  counters' | tee "$out/day-$run.txt"
  day_seconds "$out/day-$run.txt" >> "$out/days.txt"
done
bench/cpu-speeds.sh "after the days, before the sweeps"
sweep() {  # sweep ENGINE: runs it, prints and records its wall seconds
  echo "== bin/memhygiene sim sweep docs/scenarios/web-farm.yaml --engine $1"
  local start end
  start=$(date +%s.%N)
  bin/memhygiene sim sweep docs/scenarios/web-farm.yaml --engine "$1" >"$out/sweep-$1.txt"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "wall %.1f s\n", e - s }' | tee -a "$out/sweeps-$1.txt"
}
sweep skip-settled
sweep page-by-page
if cmp -s "$out/sweep-skip-settled.txt" "$out/sweep-page-by-page.txt"; then
  echo "sweep tables identical"
else
  echo "sweep tables DIFFER"; diff "$out/sweep-skip-settled.txt" "$out/sweep-page-by-page.txt"; exit 1
fi
for ((run = 2; run <= runs; run++)); do
  sweep skip-settled
done
median() {  # median < SECONDS, one a line: the median (of an even number, the lower middle one), then the runs in order
  local runs sorted
  runs=$(cat)
  sorted=$(sort -n <<<"$runs")
  printf '%s s (runs in order: %s)\n' "$(sed -n "$((($(wc -l <<<"$sorted") + 1) / 2))p" <<<"$sorted")" \
    "$(paste -sd, <<<"$runs" | sed 's/,/, /g')"
}
bench/cpu-speeds.sh "after the sweeps"
echo "== skip-settled, median of $runs runs"
echo "day:   $(median < "$out/days.txt")"
echo "sweep: $(grep -oP 'wall \K[0-9.]+' "$out/sweeps-skip-settled.txt" | median)"
