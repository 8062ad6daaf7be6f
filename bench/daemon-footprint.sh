#!/usr/bin/env bash
# The daemon's CPU, RSS and API latency with 50 test-driver domains and their agents at 1 Hz, beside a
# daemon with no domains measured in the same run. Figures go into docs/PERFORMANCE.md, "Controller: the daemon".
#   usage: bench/daemon-footprint.sh [DOMAINS [WINDOW_SECONDS]]   (defaults: 50, 60)
set -euo pipefail
root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./mvnw -B -q -DskipTests -pl cli,bench -am package
unset MEMHYGIENE_JAVA_OPTS
"${JAVA:-java}" -cp bench/target/benchmarks.jar org.memhygiene.bench.daemon.DaemonFootprint \
  "$root/bin/memhygiene" "${1:-50}" "${2:-60}"
