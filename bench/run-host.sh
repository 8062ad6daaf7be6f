#!/usr/bin/env bash
# Host sample benchmark behind docs/PERFORMANCE.md: host + 50 test-driver domains + their agents, beside
# the libvirt inventory alone measured in the same run. Prints JMH's table, then medians and the ratio.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./mvnw -B -q -DskipTests -pl bench -am package
out=bench/target/host-bench.txt
java -jar bench/target/benchmarks.jar 'org.memhygiene.bench.host.HostSampleBenchmark' -rf json -rff bench/target/host-bench.json | tee "$out"
echo
echo "median (p0.50) per benchmark:"
grep -E '^HostSample.*p0\.50' "$out" | sed -E 's/:[^ ]*p0\.50//' | awk '{print "  " $1 ": " $(NF-1) " " $NF}'
