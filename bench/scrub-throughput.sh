#!/usr/bin/env bash
# Guest agent scrub throughput against a C reference (the agent's footprint: bench/agent-footprint.sh).
# Figures go into docs/PERFORMANCE.md, "Guest agent: scrub throughput".
#   usage: bench/scrub-throughput.sh [GIB [ROUNDS]]     (defaults: 1 GiB, 7 rounds)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gib=${1:-1}
rounds=${2:-7}
cd "$root"
mkdir -p bench/target
gcc -O2 -Wall -Wextra -o bench/target/scrub_reference bench/c/scrub_reference.c
./mvnw -B -q -DskipTests -pl bench -am package
jar=bench/target/benchmarks.jar
java=${JAVA:-java}
echo "== throughput (C reference vs Java scrubber; $("$java" -version 2>&1 | head -1); $(uname -r))"
"$java" -Xmx256m -cp "$jar" org.memhygiene.bench.scrub.ScrubThroughput throughput bench/target/scrub_reference "$gib" "$rounds"
