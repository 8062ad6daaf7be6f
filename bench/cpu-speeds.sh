#!/usr/bin/env bash
# How fast each CPU runs right now, pinned to each CPU in turn: a fixed shell loop (two million additions,
# no memory traffic), its wall seconds, and with the benchmarks' jar built the time of a load that misses
# every cache (MemoryLatency). The benchmarks that time the simulator print it around their runs
# (bench/sim-engines.sh, bench/sim-ab.sh), because this machine's CPUs do not always run at the same
# speed: on 2026-12-06 at 05:02 a shell loop took 7.09 s pinned to cpu0 and 10.94 s pinned to cpu1, alone
# on the machine, and both ran it at the same speed minutes later (docs/PERFORMANCE.md, "Nineteenth
# session"). So each run can be read against the speed its CPUs had.
#   usage: bench/cpu-speeds.sh LABEL
#   prints: cpu speeds (LABEL), pinned to each CPU in turn: cpu0 loop 1.52 s chase 193 ns, 16 chains 12.4 ns a load; cpu1 ...
set -euo pipefail
label=${1:?usage: bench/cpu-speeds.sh LABEL}
if ! command -v taskset >/dev/null || ! command -v lscpu >/dev/null; then
  echo "cpu speeds ($label): not measured: taskset and lscpu (util-linux) are needed to pin the loop"
  exit 0
fi
# The memory probe too: the simulator's time is mostly cache misses, and once here the loop, run just
# before, showed nothing of a slow hour (docs/PERFORMANCE.md, "Nineteenth session").
jar=$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)/target/benchmarks.jar
# On huge pages where the kernel gives them on request, as the simulator's benchmarks run.
thp=$(grep -qs '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled && echo -XX:+UseTransparentHugePages || true)
line="cpu speeds ($label), pinned to each CPU in turn:"
sep=" "
for cpu in $(lscpu -p=CPU,ONLINE | grep -v '^#' | awk -F, '$2 == "Y" { print $1 }'); do
  start=$(date +%s.%N)
  # A CPU outside this process's affinity (a container's cpuset) cannot be measured: said, not fatal.
  if taskset -c "$cpu" bash -c 'i=0; while ((i < 2000000)); do ((i++)); done' 2>/dev/null; then
    line+="$sep$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "cpu%d loop %.2f s", '"$cpu"', e - s }')"
    if [ -f "$jar" ]; then
      # shellcheck disable=SC2086
      line+=" $(taskset -c "$cpu" "${JAVA:-java}" -Xmx400m -Xmn8m -XX:+UseSerialGC $thp -cp "$jar" \
        org.memhygiene.bench.sim.MemoryLatency || echo "memory not measured: MemoryLatency failed")"
    fi
  else
    line+="${sep}cpu$cpu not allowed here"
  fi
  sep="; "
done
echo "$line"
