#!/usr/bin/env bash
# Posture scoring benchmark behind docs/PERFORMANCE.md: scoring a 50-domain snapshot, beside Jackson
# writing the same snapshot (GET /api/v1/snapshot's work) in the same run. Prints JMH's table, then medians.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./mvnw -B -q -DskipTests -pl bench -am package
out=bench/target/posture-bench.txt
java -jar bench/target/benchmarks.jar 'org.memhygiene.bench.host.PostureScoreBenchmark' -rf json -rff bench/target/posture-bench.json | tee "$out"
echo
echo "median (p0.50) per benchmark:"
grep -E '^PostureScore.*p0\.50' "$out" | sed -E 's/:[^ ]*p0\.50//' | awk '{print "  " $1 ": " $(NF-1) " " $NF}'
