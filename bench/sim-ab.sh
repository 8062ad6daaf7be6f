#!/usr/bin/env bash
# Two commits' simulators on the same simulated day, alternately (docs/PERFORMANCE.md, "Simulator: scan
# engines"): this machine's speed varies by a tenth from run to run and by up to a quarter within hours,
# so a change is judged on rounds that alternate the builds with and without it. Each commit's simulator
# and core are built in a temporary git worktree; the driver (SimulatorThroughput day) is this tree's,
# and the commit's jars come first on its class path. Prints, per run, the wall time at every sample and
# the CPU time of the whole run; per round, each CPU's speed first (bench/cpu-speeds.sh), and whether
# the two commits' counters were identical at every sample.
#   usage: bench/sim-ab.sh COMMIT_A COMMIT_B [ROUNDS] [SCENARIO.yaml]   (default 2 rounds, bench/sim-host-64x4g-day.yaml)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[ $# -ge 2 ] || { sed -n 2,8p "$0" >&2; exit 2; }
rounds=${3:-2}
scenario=${4:-bench/sim-host-64x4g-day.yaml}
java=${JAVA:-java}
./mvnw -B -q -DskipTests -pl bench -am package
work=$(mktemp -d)
cleanup() {
  for tree in "$work"/*/; do git worktree remove --force "$tree" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
declare -A cp
for commit in "$1" "$2"; do
  dir="$work/$(git rev-parse --short "$commit")"
  [ -d "$dir" ] && continue # the same commit twice
  git worktree add -q --detach "$dir" "$commit"
  (cd "$dir" && ./mvnw -B -q -DskipTests -De2e.skip=true -pl simulator -am package)
  cp[$commit]="$dir/simulator/target/memhygiene-simulator.jar:$dir/core/target/memhygiene-core.jar:$root/bench/target/benchmarks.jar"
done
thp=
if grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then thp=-XX:+UseTransparentHugePages; fi
for round in $(seq "$rounds"); do
  bench/cpu-speeds.sh "round $round"
  for commit in "$1" "$2"; do
    # shellcheck disable=SC2086
    out=$("$java" -Xmx4g -Xmn32m -XX:+UseSerialGC $thp -cp "${cp[$commit]}" org.memhygiene.bench.sim.SimulatorThroughput day "$scenario")
    echo "round $round $(git rev-parse --short "$commit"): $(grep -c 'full scans' <<<"$out") samples," \
      "wall at each: $(grep -oP ': \K[0-9.]+(?= s wall, full)' <<<"$out" | tr '\n' ' ')"
    tail -1 <<<"$out"
    grep '^  counters ' <<<"$out" >"$work/counters-$round-$commit"
  done
  # Every KSM counter, resident pages and exposure at every sample: a change of speed must not change them.
  if cmp -s "$work/counters-$round-$1" "$work/counters-$round-$2"; then
    echo "round $round: counters identical at all $(wc -l <"$work/counters-$round-$1") samples"
  else
    echo "round $round: counters DIFFER"; diff "$work/counters-$round-$1" "$work/counters-$round-$2" | head -20
  fi
done
