#!/usr/bin/env bash
# KSM benchmarks behind docs/PERFORMANCE.md: one full KSM sample, and `ksm top` over 500 processes,
# each beside a raw-read reference measured in the same run. Prints JMH's table, then medians and ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./mvnw -B -q -DskipTests -pl bench -am package
out=bench/target/ksm-bench.txt
java -jar bench/target/benchmarks.jar 'org.memhygiene.bench.ksm.*' -rf json -rff bench/target/ksm-bench.json | tee "$out"
echo
echo "median (p0.50) per benchmark:"
grep -E '^Ksm.*p0\.50' "$out" | sed -E 's/:[^ ]*p0\.50//' | awk '{print "  " $1 ": " $(NF-1) " " $NF}'
