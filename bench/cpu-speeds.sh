#!/usr/bin/env bash
# How fast each CPU runs right now: the same fixed shell loop (two million additions, no memory traffic)
# pinned to each CPU in turn, its wall seconds per CPU on one line. The benchmarks that time the simulator
# print it before and after (bench/sim-engines.sh, bench/sim-ab.sh), because this machine's CPUs do not
# always run at the same speed: on 2026-12-06 at 05:03 one shell loop took 7.09 s pinned to cpu0 and
# 10.94 s pinned to cpu1, alone on the machine, and the same loop's speeds were equal again within the
# hour (docs/PERFORMANCE.md, "Nineteenth session"). So each run can be read against its CPUs' speed.
#   usage: bench/cpu-speeds.sh LABEL     prints "cpu speeds (LABEL): cpu0 2.31 s, cpu1 2.30 s"
set -euo pipefail
label=${1:?usage: bench/cpu-speeds.sh LABEL}
if ! command -v taskset >/dev/null || ! command -v lscpu >/dev/null; then
  echo "cpu speeds ($label): not measured: taskset and lscpu (util-linux) are needed to pin the loop"
  exit 0
fi
line="cpu speeds ($label), the same loop pinned to each CPU:"
sep=" "
for cpu in $(lscpu -p=CPU,ONLINE | grep -v '^#' | awk -F, '$2 == "Y" { print $1 }'); do
  start=$(date +%s.%N)
  # A CPU outside this process's affinity (a container's cpuset) cannot be measured: said, not fatal.
  if taskset -c "$cpu" bash -c 'i=0; while ((i < 2000000)); do ((i++)); done' 2>/dev/null; then
    line+="$sep$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "cpu%d %.2f s", '"$cpu"', e - s }')"
  else
    line+="${sep}cpu$cpu not allowed here"
  fi
  sep=", "
done
echo "$line"
